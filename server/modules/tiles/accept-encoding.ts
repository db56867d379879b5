/**
 * Whether a client takes gzip, by its Accept-Encoding (RFC 9110 §12.5.3): a `gzip` (or `x-gzip`) entry
 * with a non-zero weight, or else `*` with one. `gzip;q=0` is a refusal, not an acceptance.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let star = false;
  for (const entry of header.split(',')) {
    const [coding = '', ...params] = entry.split(';');
    const name = coding.trim().toLowerCase();
    if (name !== 'gzip' && name !== 'x-gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    const accepted = Number.isFinite(weight) && weight > 0;
    if (name === '*') star = accepted;
    else return accepted;
  }
  return star;
}
