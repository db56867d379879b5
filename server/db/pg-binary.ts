/**
 * Arrays between Node and PostgreSQL without decimal text, for hot bulk paths (analysis over 1M events,
 * DBSCAN over 100k points): a float8[] parameter in the binary array format, and aggregates returned as
 * base64 runs of big-endian values (`encode(string_agg(float8send(v), ''), 'base64')`, likewise
 * `int4send`) read back as typed arrays.
 */
import { endianness } from 'node:os';

const FLOAT8_OID = 701;

/**
 * A float8[] query parameter in PostgreSQL's binary array format (what `array_send` writes: one
 * dimension, no nulls, element OID 701, then each value as length 8 + big-endian IEEE 754). node-pg
 * sends a Buffer parameter in binary, and `$1::float8[]` makes the server read it with `array_recv`:
 * no decimal text to format in JS nor to parse in PostgreSQL (for 2 × 100k coordinates that text
 * cost 110 ms of our CPU), and the values arrive bit for bit.
 */
export function float8ArrayParam(values: ArrayLike<number>, stride = 1, offset = 0): Buffer {
  const n = Math.ceil((values.length - offset) / stride);
  const bytes = Buffer.allocUnsafe(20 + 12 * n);
  bytes.writeInt32BE(1, 0); // dimensions
  bytes.writeInt32BE(0, 4); // no nulls
  bytes.writeInt32BE(FLOAT8_OID, 8);
  bytes.writeInt32BE(n, 12);
  bytes.writeInt32BE(1, 16); // lower bound
  for (let k = 0, at = 20; k < n; k++, at += 12) {
    bytes.writeInt32BE(8, at);
    bytes.writeDoubleBE(values[offset + k * stride]!, at + 4);
  }
  return bytes;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * `n` big-endian values of `width` bytes, base64-encoded (PostgreSQL's `encode(…, 'base64')`, whose line
 * breaks Buffer's decoder skips), swapped in place to this machine's order and aligned for a typed view.
 */
function bigEndianRun(base64: string, n: number, width: 4 | 8, what: string): Buffer {
  let bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== width * n) throw new Error(`expected ${n} ${what} values, got ${bytes.length} bytes`);
  if (bytes.byteOffset % width !== 0) {
    // A typed-array view needs an aligned offset (a small Buffer sits inside a shared pool).
    const aligned = Buffer.from(new ArrayBuffer(bytes.length));
    bytes.copy(aligned);
    bytes = aligned;
  }
  if (LITTLE_ENDIAN) {
    if (width === 8) bytes.swap64();
    else bytes.swap32();
  }
  return bytes;
}

/** Base64 of big-endian float8 values as a Float64Array. */
export function float8Array(base64: string | null, n: number): Float64Array {
  if (base64 === null || n === 0) return new Float64Array(0);
  const bytes = bigEndianRun(base64, n, 8, 'float8');
  return new Float64Array(bytes.buffer, bytes.byteOffset, n);
}

/** Base64 of big-endian int4 values as an Int32Array. */
export function int4Array(base64: string | null, n: number): Int32Array {
  if (base64 === null || n === 0) return new Int32Array(0);
  const bytes = bigEndianRun(base64, n, 4, 'int4');
  return new Int32Array(bytes.buffer, bytes.byteOffset, n);
}
