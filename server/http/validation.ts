/**
 * Two Ajv instances: query strings, params and headers arrive as text, so they are coerced to the
 * schema's types ("12" → 12); bodies are JSON and are taken literally, so a coordinate sent as the
 * string "113.6" is refused instead of silently becoming a number.
 *
 * Before either, one check no schema states: no text may hold NUL (U+0000). PostgreSQL's text types
 * cannot store it, so a name, a search term or a filter with one would fail in SQL as a 500 (or be
 * dropped on one path and stored on another).
 */
import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FastifyInstance } from 'fastify';
import { isStorableInstant } from '../contracts/calendar';
import { AppError } from './errors';

// ajv-formats defines it as { validate, compare } (its Format type is the union of every shape).
const rfc3339 = (fullFormats['date-time'] as { validate: (text: string) => boolean }).validate;
const fullDate = (fullFormats.date as { validate: (text: string) => boolean }).validate;

/**
 * RFC 3339 date-time, and an instant the server can hold: the format admits a leap second (23:59:60),
 * which JavaScript cannot represent (Invalid Date), and years 0000–9999 in any offset, of which
 * PostgreSQL refuses year 0 and anything past 9999 UTC. Both passed validation and failed later as 500s.
 */
function isDateTime(text: string): boolean {
  return rfc3339(text) && isStorableInstant(Date.parse(text));
}

/**
 * RFC 3339 full-date (a real calendar day), in the years PostgreSQL stores: it refuses year 0000 (there
 * is no year 0), which passed validation and failed in SQL as a 500 (assignments, household changes,
 * the members of a grid on a day).
 */
function isDate(text: string): boolean {
  return fullDate(text) && isStorableInstant(Date.parse(`${text}T00:00:00Z`));
}

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, strict: false, ...options });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  ajv.addFormat('date', { type: 'string', validate: isDate });
  return ajv;
}

/** Whether any string or key in `value` holds U+0000: one pass without paths (bodies can be large). */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const item of v) {
        if (typeof item === 'string') {
          if (item.includes('\u0000')) return true;
        } else if (item !== null && typeof item === 'object') stack.push(item);
      }
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const k of Object.keys(v)) {
        if (k.includes('\u0000')) return true;
        const item = (v as Record<string, unknown>)[k];
        if (typeof item === 'string') {
          if (item.includes('\u0000')) return true;
        } else if (item !== null && typeof item === 'object') stack.push(item);
      }
    }
  }
  return false;
}

/**
 * The JSON Pointer of the first string (or object key) in `value` holding U+0000, or undefined.
 * Iterative, so a hostile 10,000-deep body cannot overflow the stack; files (Buffers) are not text.
 */
export function findNul(value: unknown): string | undefined {
  if (!hasNul(value)) return undefined;
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path || '/';
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i += 1) stack.push([v[i], `${path}/${i}`]);
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [k, child] of Object.entries(v)) {
        const at = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        if (k.includes('\u0000')) return at;
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

export function registerValidation(app: FastifyInstance): void {
  const coercing = makeAjv({ coerceTypes: 'array' });
  const literal = makeAjv({ coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? literal.compile(schema) : coercing.compile(schema)));

  app.addHook('preValidation', (request, _reply, done) => {
    // Path and query come from the URL, where a NUL can only be written %00 (Node refuses a raw one):
    // a GET without it (tiles, lookups: the hot paths) needs no walk over its parameters.
    if (request.body === undefined && !request.url.includes('%00')) {
      done();
      return;
    }
    for (const [where, value] of [['params', request.params], ['querystring', request.query], ['body', request.body]] as const) {
      const path = findNul(value);
      if (path !== undefined) {
        done(
          new AppError('VALIDATION_FAILED', 400, `Invalid ${where}: text must not contain the NUL character (U+0000).`, {
            in: where,
            ...(path === '/' ? {} : { field: path.slice(1) }),
            problems: [{ path, keyword: 'nul', message: 'must not contain U+0000' }],
          }),
        );
        return;
      }
    }
    done();
  });
}
