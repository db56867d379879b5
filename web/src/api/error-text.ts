/**
 * What a failed call says to the user: for the server's common error codes a summary in the reader's
 * language, followed by the server's own (English) message, which names the field or record concerned.
 */
import { isMessageKey, t } from '../i18n/i18n';
import { ApiError } from './client';

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const key = `error.code.${err.code ?? ''}`;
    return isMessageKey(key) ? t('error.withDetail', { summary: t(key), detail: err.message }) : err.message;
  }
  // fetch rejects with a TypeError when the server cannot be reached at all.
  if (err instanceof TypeError && /fetch/i.test(err.message)) return t('error.network');
  return err instanceof Error ? err.message : String(err);
}
