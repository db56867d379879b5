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

/** The concatenated tail of answers (everything after the message), by their frozen fallback chain. */
const tails = new WeakMap<object, { parts: Buffer[]; bytes: Buffer }>();

/**
 * Everything after the message. Within a steady minute every answer for a grid has the very same parts
 * (each the cached UTF-8 of a shared, frozen object), so their concatenation is kept too, by the answer's
 * frozen fallback chain, and reused while every part is still the identical buffer.
 */
function tailOf(r: DispatchResult): Buffer {
  const parts = [
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
  ];
  if (!Object.isFrozen(r.fallback) || r.fallback.length === 0) return Buffer.concat(parts);
  const kept = tails.get(r.fallback);
  if (kept && kept.parts.length === parts.length && kept.parts.every((b, i) => b === parts[i])) return kept.bytes;
  const bytes = Buffer.concat(parts);
  tails.set(r.fallback, { parts, bytes });
  return bytes;
}

/** UTF-8 JSON of one point answer, exactly as the contract's schema serializer writes it. */
export function serializeDispatchResult(r: DispatchResult): Buffer {
  const p = r.position;
  const head = `{"position":{"lon":${num(p.lon)},"lat":${num(p.lat)},"crs":${str(p.crs)}},"at":${str(r.at)},"status":${str(r.status)},"message":${str(r.message)}`;
  const tail = tailOf(r);
  const out = Buffer.allocUnsafe(Buffer.byteLength(head) + tail.length);
  const n = out.write(head, 0);
  tail.copy(out, n);
  return out;
}
