/**
 * Two Ajv instances: query strings, params and headers arrive as text, so they are coerced to the
 * schema's types ("12" → 12); bodies are JSON and are taken literally, so a coordinate sent as the
 * string "113.6" is refused instead of silently becoming a number.
 */
import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

export function registerValidation(app: FastifyInstance): void {
  const coercing = makeAjv({ coerceTypes: 'array' });
  const literal = makeAjv({ coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? literal.compile(schema) : coercing.compile(schema)));
}
