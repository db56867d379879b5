/**
 * Optimistic concurrency over HTTP: a resource's `version` is its ETag (`"3"`), and writers send it back
 * in `If-Match`. A stale version gets 412; a missing one where required gets 428.
 */
import { AppError } from './errors';

export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * An If-Match precondition (RFC 9110 §13.1.1): `*` (true while the resource exists) or the versions
 * of a list of ETags (true if the current version is any of them).
 */
export type IfMatch = '*' | readonly number[];

/**
 * The If-Match header: `*`, or a comma-separated list of ETags, each the version as `"3"` (also read
 * as `W/"3"` or bare `3`, as before); undefined when absent. Anything else is a 400.
 *
 * RFC 9110 compares If-Match strongly, so `W/"3"` would never match. It matches here on purpose: the
 * version is exact whichever way it is written, and a reverse proxy that compresses answers (nginx's
 * gzip) turns our strong ETags weak on the way out — a client echoing what it was given would then be
 * refused every edit.
 */
export function parseIfMatch(header: string | string[] | undefined): IfMatch | undefined {
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (raw.trim() === '*') return '*';
  const versions: number[] = [];
  for (const part of raw.split(',')) {
    const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(part);
    if (!match?.[1]) {
      throw new AppError('VALIDATION_FAILED', 400, 'If-Match must be * or the version from the ETag, e.g. "3" (or a list: "3", "4").', { in: 'headers', field: 'if-match', value: raw });
    }
    versions.push(Number(match[1]));
  }
  return versions;
}

/** Whether a resource at `version` satisfies If-Match (no header: no precondition). */
export function ifMatchHolds(ifMatch: IfMatch | undefined, version: number): boolean {
  return ifMatch === undefined || ifMatch === '*' || ifMatch.includes(version);
}

/** The precondition as a message names it: `3`, `3 or 4`, or `*`. */
export function describeIfMatch(ifMatch: IfMatch): string {
  return ifMatch === '*' ? '*' : ifMatch.join(' or ');
}

export function requireIfMatch(header: string | string[] | undefined): IfMatch {
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
