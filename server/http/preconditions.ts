/**
 * Optimistic concurrency over HTTP: a resource's `version` is its ETag (`"3"`), and writers send it back
 * in `If-Match`. A stale version gets 412; a missing one where required gets 428.
 */
import { AppError } from './errors';

export function etagOf(version: number): string {
  return `"${version}"`;
}

/** The version in an If-Match header (`"3"`, `W/"3"` or `3`), or undefined when absent. */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw.trim() === '') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(raw);
  if (!match?.[1]) {
    throw new AppError('VALIDATION_FAILED', 400, 'If-Match must be the version from the ETag, e.g. "3".', { in: 'headers', field: 'if-match', value: raw });
  }
  return Number(match[1]);
}

export function requireIfMatch(header: string | string[] | undefined): number {
  const version = parseIfMatch(header);
  if (version === undefined) {
    throw new AppError('PRECONDITION_REQUIRED', 428, 'Send If-Match with the version you edited (the ETag of GET), so you never overwrite a newer change.', { in: 'headers', field: 'if-match' });
  }
  return version;
}

/**
 * Whether a GET's If-None-Match names this ETag (RFC 9110 §13.1.2), so the answer is 304: `*`, or a
 * list holding it, compared weakly (`W/"x"` and `"x"` match). The usual request echoes the one ETag it
 * was given: one string comparison.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header === etag) return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}
