/**
 * The point answer (DispatchResultSchema) as UTF-8 JSON, written field by field in the contract's order
 * and with only the contract's fields — what the schema serializer would send, byte for byte
 * (dispatch-serialize.unit.test.ts compares both).
 *
 * Why by hand (issue #6, Speed): a generic schema serializer walks and escapes the whole ~1.7 KB answer
 * on every request, and the socket then encodes the (mostly Chinese) text to UTF-8 again. Most of an
 * answer is shared, frozen objects built once (division names, the grid as seen when it covers the
 * point, a grid's staff list, and within a steady minute the on-duty list and fallback chain): their
 * UTF-8 JSON is written once and kept beside them (WeakMap), so a request encodes only what is its own
 * (position, instant, status, message) and concatenates buffers.
 */
import type { DispatchResult } from '../../contracts/dispatch';

type CodeName = NonNullable<DispatchResult['district']>;
type Grid = NonNullable<DispatchResult['grid']>;
type Staff = DispatchResult['staff'][number];

const str = JSON.stringify as (s: string) => string;
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');
/** fast-json-stringify writes an integer field's non-integer value truncated; ids are integers anyway. */
const int = (n: number): string => (Number.isInteger(n) ? String(n) : Number.isFinite(n) ? String(Math.trunc(n)) : 'null');
const nullableStr = (s: string | null | undefined): string => (s === null || s === undefined ? 'null' : str(s));

/** UTF-8 JSON of shared (frozen) parts of answers, written once per object. */
const fragments = new WeakMap<object, Buffer>();

function shared<T extends object>(value: T, write: (v: T) => string): Buffer {
  if (!Object.isFrozen(value)) return Buffer.from(write(value));
  let bytes = fragments.get(value);
  if (bytes === undefined) {
    bytes = Buffer.from(write(value));
    fragments.set(value, bytes);
  }
  return bytes;
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const NULL = ascii('null');
const EMPTY = ascii('[]');
const K_DISTRICT = ascii(',"district":');
const K_STREET = ascii(',"street":');
const K_COMMUNITY = ascii(',"community":');
const K_GRID = ascii(',"grid":');
const K_AMBIGUOUS_TRUE = ascii(',"ambiguous":true,"candidates":');
const K_AMBIGUOUS_FALSE = ascii(',"ambiguous":false,"candidates":');
const K_STAFF = ascii(',"staff":');
const K_ON_DUTY = ascii(',"onDuty":');
const K_RESPONDER = ascii(',"responder":');
const K_FALLBACK = ascii(',"fallback":');
const SOURCE = { memory: ascii(',"source":"memory"}'), postgis: ascii(',"source":"postgis"}') } as const;

const writeCodeName = (c: CodeName): string => `{"code":${str(c.code)},"name":${str(c.name)}}`;
const codeName = (c: CodeName | null): Buffer => (c === null ? NULL : shared(c, writeCodeName));

const writeGrid = (g: Grid): string =>
  `{"id":${int(g.id)},"code":${str(g.code)},"name":${str(g.name)},"kind":${str(g.kind)},"layoutId":${int(g.layoutId)},"layoutEffectiveFrom":${str(g.layoutEffectiveFrom)},"match":${str(g.match)},"distanceM":${num(g.distanceM)}}`;

const staffFields = (s: Staff): string => `"staffId":${int(s.staffId)},"staffCode":${str(s.staffCode)},"name":${str(s.name)},"phone":${nullableStr(s.phone)},"role":${str(s.role)}`;

function writeStaffList(list: readonly Staff[]): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '{' : ',{') + staffFields(list[i]!) + '}';
  return out + ']';
}

function writeCandidates(list: DispatchResult['candidates']): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    out += `${i === 0 ? '' : ','}{"id":${int(c.id)},"code":${str(c.code)},"name":${str(c.name)},"layoutId":${int(c.layoutId)}}`;
  }
  return out + ']';
}

function writeOnDuty(list: DispatchResult['onDuty']): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    out += `${i === 0 ? '{' : ',{'}${staffFields(d)},"level":${str(d.level)},"via":${str(d.via)},"scopeCode":${str(d.scopeCode)}}`;
  }
  return out + ']';
}

function writeFallback(list: DispatchResult['fallback']): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    out += `${i === 0 ? '' : ','}{"step":${str(f.step)},"outcome":${str(f.outcome)},"reason":${str(f.reason)}}`;
  }
  return out + ']';
}

const writeResponder = (r: NonNullable<DispatchResult['responder']>): string => `{${staffFields(r)},"step":${str(r.step)}}`;

const K_STATUS = ascii(',"status":');
const K_MESSAGE = ascii(',"message":');

/**
 * The cached rest of an answer (everything after `at`), with the values it was written from: reused
 * only while every one of them is the very same (status, message and each shared part).
 */
interface Rest {
  status: string;
  message: string;
  district: DispatchResult['district'];
  street: DispatchResult['street'];
  community: DispatchResult['community'];
  grid: DispatchResult['grid'];
  ambiguous: boolean;
  candidates: DispatchResult['candidates'];
  staff: DispatchResult['staff'];
  onDuty: DispatchResult['onDuty'];
  responder: DispatchResult['responder'];
  source: DispatchResult['source'];
  bytes: Buffer;
}

/** By the answer's frozen fallback chain: one per grid (or grid-less community) and steady minute. */
const rests = new WeakMap<object, Rest>();

function writeRest(r: DispatchResult): Buffer {
  return Buffer.concat([
    K_STATUS,
    Buffer.from(str(r.status)),
    K_MESSAGE,
    Buffer.from(str(r.message)),
    K_DISTRICT,
    codeName(r.district),
    K_STREET,
    codeName(r.street),
    K_COMMUNITY,
    codeName(r.community),
    K_GRID,
    r.grid === null ? NULL : shared(r.grid, writeGrid),
    r.ambiguous ? K_AMBIGUOUS_TRUE : K_AMBIGUOUS_FALSE,
    r.candidates.length === 0 ? EMPTY : shared(r.candidates, writeCandidates),
    K_STAFF,
    r.staff.length === 0 ? EMPTY : shared(r.staff, writeStaffList),
    K_ON_DUTY,
    r.onDuty.length === 0 ? EMPTY : shared(r.onDuty, writeOnDuty),
    K_RESPONDER,
    r.responder === null ? NULL : shared(r.responder, writeResponder),
    K_FALLBACK,
    r.fallback.length === 0 ? EMPTY : shared(r.fallback, writeFallback),
    r.source === 'postgis' ? SOURCE.postgis : SOURCE.memory,
  ]);
}

/**
 * Everything after `at`. Within a steady minute every answer for a grid is made of the very same
 * shared, frozen objects and message, so the bytes written for the first are kept (by the answer's
 * frozen fallback chain) and reused while each of those values is identical — a few comparisons
 * instead of a dozen lookups and a concatenation per request. Anything else is written afresh.
 */
function restOf(r: DispatchResult): Buffer {
  const key = r.fallback;
  if (key.length === 0) return writeRest(r);
  // Only frozen chains are ever kept (below), so a hit needs no isFrozen call (a call into C++).
  const kept = rests.get(key);
  if (
    kept !== undefined &&
    kept.grid === r.grid &&
    kept.message === r.message &&
    kept.status === r.status &&
    kept.staff === r.staff &&
    kept.onDuty === r.onDuty &&
    kept.responder === r.responder &&
    kept.candidates === r.candidates &&
    kept.ambiguous === r.ambiguous &&
    kept.community === r.community &&
    kept.street === r.street &&
    kept.district === r.district &&
    kept.source === r.source
  ) {
    return kept.bytes;
  }
  // Only answers whose parts are all shared (frozen) are kept: a part built per request would never match again.
  const bytes = writeRest(r);
  const sharedParts = Object.isFrozen(key) && [r.district, r.street, r.community, r.grid, r.candidates, r.staff, r.onDuty, r.responder].every((v) => v === null || Object.isFrozen(v));
  if (sharedParts) {
    rests.set(key, {
      status: r.status,
      message: r.message,
      district: r.district,
      street: r.street,
      community: r.community,
      grid: r.grid,
      ambiguous: r.ambiguous,
      candidates: r.candidates,
      staff: r.staff,
      onDuty: r.onDuty,
      responder: r.responder,
      source: r.source,
      bytes,
    });
  }
  return bytes;
}

/**
 * Answers are small (~1.7 KB): they are cut from a large slab of memory, fewer and larger allocations
 * than Buffer's own 8 KB pool (one per four answers). Each answer owns its bytes; a slab is freed
 * once no answer cut from it is alive.
 */
const SLAB_BYTES = 256 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function take(length: number): Buffer {
  if (length > SLAB_BYTES / 8) return Buffer.allocUnsafe(length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = Buffer.from(slab, slabUsed, length);
  // 8-byte alignment, as Buffer's pool keeps it.
  slabUsed += (length + 7) & ~7;
  return out;
}

/** The JSON text of the three CRS names, written once (JSON.stringify is a call into C++ per string). */
const CRS_JSON: Readonly<Record<string, string>> = { wgs84: '"wgs84"', gcj02: '"gcj02"', bd09: '"bd09"' };
/** Only these characters can be copied into a JSON string unescaped and written as one byte each. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** The last `at` written, and its JSON text when it is plain ASCII (else undefined): thousands of answers share one. */
let lastAt = '';
let lastAtJson: string | undefined = '""';

/** UTF-8 JSON of one point answer, exactly as the contract's schema serializer writes it. */
export function serializeDispatchResult(r: DispatchResult): Buffer {
  const p = r.position;
  if (r.at !== lastAt) {
    lastAt = r.at;
    lastAtJson = PLAIN_ASCII.test(r.at) ? `"${r.at}"` : undefined;
  }
  const crs = CRS_JSON[p.crs];
  const rest = restOf(r);
  if (crs !== undefined && lastAtJson !== undefined) {
    // Numbers, a known CRS and a plain instant: the head is ASCII, one byte a character.
    const head = `{"position":{"lon":${num(p.lon)},"lat":${num(p.lat)},"crs":${crs}},"at":${lastAtJson}`;
    const out = take(head.length + rest.length);
    out.write(head, 0, 'latin1');
    rest.copy(out, head.length);
    return out;
  }
  const head = `{"position":{"lon":${num(p.lon)},"lat":${num(p.lat)},"crs":${str(p.crs)}},"at":${str(r.at)}`;
  const headBytes = Buffer.byteLength(head);
  const out = take(headBytes + rest.length);
  out.write(head, 0);
  rest.copy(out, headBytes);
  return out;
}
