/**
 * Whether a client takes gzip, by its Accept-Encoding (RFC 9110 §12.5.3): a `gzip` (or `x-gzip`) entry
 * with a non-zero weight, or else `*` with one. `gzip;q=0` is a refusal, not an acceptance.
 */
const GZIP_OR_ANY = /(?:^|,)[ \t]*(?:x-gzip|gzip|\*)[ \t]*(?:,|$)/i;

export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  // Browsers and tile clients send weightless lists ("gzip, deflate, br, zstd"): every entry is accepted,
  // so one regular expression decides without splitting the header (the cached tile's hot path).
  if (!header.includes(';')) return GZIP_OR_ANY.test(header);
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
