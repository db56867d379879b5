/**
 * File problems as AppErrors. Everything a reader refuses is `IMPORT_FAILED` (422) with the precise
 * reason in `details.reason` (an ExchangeRejection), so clients keep one code for "this file" and
 * switch on the reason; an unknown format is `UNSUPPORTED_FORMAT` (400).
 */
import { EXCHANGE_FORMATS, type ExchangeRejection } from '../../contracts/exchange';
import { AppError, type Where } from '../../http/errors';

/**
 * The uploaded file is the body (`in: 'body'`; `featureIndex` or `line` say where inside it when
 * known). A refusal caused by a query parameter instead (`?layer=`, `?geometry=`) overrides `in`/`field`.
 */
export function fileRejected(reason: ExchangeRejection, message: string, details: Record<string, unknown> & Partial<Where> = {}): AppError {
  return new AppError('IMPORT_FAILED', 422, message, { in: 'body', reason, ...details });
}

/** `?format=` names no format this server reads or writes. */
export function unsupportedFormat(format: string): AppError {
  return new AppError('UNSUPPORTED_FORMAT', 400, `Unknown format "${format}". Supported: ${EXCHANGE_FORMATS.join(', ')}.`, {
    in: 'querystring',
    field: 'format',
    format,
    supported: EXCHANGE_FORMATS,
  });
}

/** Runs a parser over hostile bytes: anything it throws that is not already ours becomes FILE_CORRUPT. */
export function asCorrupt(what: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return fileRejected('FILE_CORRUPT', `The ${what} could not be read: ${message}`);
}
