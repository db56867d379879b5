/**
 * Which compression a tile client gets, by its Accept-Encoding (RFC 9110 §12.5.3): Brotli or gzip,
 * whichever the client weighs higher, Brotli on a tie; none when it accepts neither.
 *
 * Brotli on a tie because it is the cheaper of the two for the server at the same size: at quality 1 an
 * 8.6 KB events tile takes ~61 µs against gzip level 1's ~123 µs, and both shrink it to ~58 %
 * (README "Benchmarks"). Chromium sends "gzip, deflate, br, zstd" over HTTPS and to localhost (the
 * web map's tile requests, checked in web/e2e) but "gzip, deflate" over plain HTTP to any other host;
 * curl --compressed (Debian's libcurl) sends "deflate, gzip, br, zstd"; GDAL's MVT driver "gzip", QGIS
 * on Qt 5 "gzip, deflate". So a deployment served over HTTPS gives browsers Brotli (README).
 *
 * An entry counts with a non-zero weight (`gzip;q=0` is a refusal); `*` stands for a coding the header
 * does not name; `x-gzip` is gzip.
 */
export type TileEncoding = 'br' | 'gzip';

const BR = /(?:^|,)[ \t]*br[ \t]*(?:,|$)/i;
const GZIP = /(?:^|,)[ \t]*(?:x-gzip|gzip)[ \t]*(?:,|$)/i;
const STAR = /(?:^|,)[ \t]*\*[ \t]*(?:,|$)/;

export function tileEncoding(header: string | undefined): TileEncoding | undefined {
  if (!header) return undefined;
  // Browsers and tile clients send weightless lists: every entry is accepted, so regular expressions
  // decide without splitting the header (the cached tile's hot path).
  // Every entry weighs 1 there, so Brotli wins whenever it is named or `*` stands for it.
  if (!header.includes(';')) {
    if (BR.test(header) || STAR.test(header)) return 'br';
    return GZIP.test(header) ? 'gzip' : undefined;
  }
  let br: number | undefined;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const entry of header.split(',')) {
    const [coding = '', ...params] = entry.split(';');
    const name = coding.trim().toLowerCase();
    if (name !== 'br' && name !== 'gzip' && name !== 'x-gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const parsed = q === undefined ? 1 : Number(q.slice(2));
    const weight = Number.isFinite(parsed) && parsed > 0 ? parsed : 0;
    if (name === 'br') br = weight;
    else if (name === '*') star = weight;
    // gzip and x-gzip name one coding: the higher weight counts.
    else gzip = Math.max(gzip ?? 0, weight);
  }
  const brWeight = br ?? star ?? 0;
  const gzipWeight = gzip ?? star ?? 0;
  if (brWeight === 0 && gzipWeight === 0) return undefined;
  return brWeight >= gzipWeight ? 'br' : 'gzip';
}
