/**
 * What a failed call says to the user: for the server's common error codes a summary in the reader's
 * language, followed by the server's own (English) message, which names the field or record concerned.
 */
import { isMessageKey, t } from '../i18n/i18n';
import { ApiError } from './client';

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    // A record of a particular kind that is not there (DIVISION_NOT_FOUND, GRID_NOT_FOUND, …) reads as
    // "not found"; the server's message names the record.
    const code = err.code?.endsWith('_NOT_FOUND') ? 'NOT_FOUND' : (err.code ?? '');
    const key = `error.code.${code}`;
    return isMessageKey(key) ? t('error.withDetail', { summary: t(key), detail: err.message }) : err.message;
  }
  // fetch rejects with a TypeError when the server cannot be reached at all.
  if (err instanceof TypeError && /fetch/i.test(err.message)) return t('error.network');
  return err instanceof Error ? err.message : String(err);
}
