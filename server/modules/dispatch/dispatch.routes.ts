/**
 * GET /api/v1/dispatch/lookup (point or address) and POST /api/v1/dispatch/lookup (batch).
 *
 * The point lookup is the hotline's hot path. Its security headers are the app's, like every answer's
 * (precomputed once, server/http/security-headers.ts); `cache-control: no-store` is its own. The point
 * answer is written by dispatch-serialize.ts (the contract's fields in its order,
 * shared parts' JSON text kept once); the address answer by a schema serializer compiled once per plugin
 * instance, from a serialisation form of the contract (below): the 200 schema is a union of the point and
 * the address answer, and a union makes fast-json-stringify validate every value against each branch.
 * Both are sent as text with an explicit JSON content type.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { commonErrorResponses, ErrorResponseSchema } from '../../contracts/common';
import {
  DispatchAddressResponseSchema,
  DispatchBatchBodySchema,
  DispatchBatchResponseSchema,
  DispatchLookupQuerySchema,
  DispatchLookupResponseSchema,
} from '../../contracts/dispatch';
import { AppError } from '../../http/errors';
import { serializeDispatchResult } from './dispatch-serialize';
import type { DispatchService } from './dispatch.service';

/**
 * Send an answer already written as JSON (text or UTF-8 bytes, by a serializer of the route's 200 schema): the content
 * type is set by hand, as text gets none, and the typed reply (which expects the object) is bypassed.
 */
function sendJsonText(reply: FastifyReply, text: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}

type JsonSchema = Record<string, unknown>;

/**
 * The same shape for serialising our own answers: `anyOf: [X, null]` (TypeBox's nullable) becomes X
 * with `nullable: true`, and a union of string literals a plain string. fast-json-stringify serialises
 * those with a typeof check instead of validating the value against every branch (issue #6, Speed).
 * Properties still follow the contract, so nothing outside it is ever sent.
 */
export function serializationSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(serializationSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const s = schema as JsonSchema;
  const anyOf = s.anyOf as JsonSchema[] | undefined;
  if (Array.isArray(anyOf)) {
    const rest = Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'anyOf'));
    const nonNull = anyOf.filter((b) => b.type !== 'null');
    if (nonNull.length > 0 && nonNull.every((b) => b.type === 'string' && typeof b.const === 'string')) {
      return { ...rest, type: 'string', ...(nonNull.length < anyOf.length ? { nullable: true } : {}) };
    }
    if (nonNull.length === 1 && anyOf.length === 2) return { ...(serializationSchema(nonNull[0]) as JsonSchema), ...rest, nullable: true };
  }
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, serializationSchema(v)]));
}

const ADDRESS_SCHEMA = serializationSchema(DispatchAddressResponseSchema) as JsonSchema;

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 413: ErrorResponseSchema };

export const dispatchRoutes: FastifyPluginAsyncTypebox<{ dispatch: DispatchService }> = async (app, { dispatch }) => {
  // Compiled on first use (the compiler needs a reply), then reused: no per-request compile or cache lookup.
  let serializeAddress: ((answer: JsonSchema) => string) | undefined;

  app.addHook('onReady', async () => {
    await dispatch.refresh();
  });

  app.get(
    '/api/v1/dispatch/lookup',
    {
      config: { permission: 'dispatch:lookup' },
      schema: {
        tags: ['dispatch'],
        summary: 'Who is responsible here and on duty now: by lon/lat (crs wgs84|gcj02|bd09) or by address',
        querystring: DispatchLookupQuerySchema,
        response: { 200: DispatchLookupResponseSchema, ...errors },
      },
    },
    // Not async: a point answered from memory is sent at once, without a promise and its microtask
    // (the hotline's hot path); the address search and past instants return their promise.
    (request, reply) => {
      const { lon, lat, address, at, crs, limit } = request.query;
      void reply.header('cache-control', 'no-store');
      if (address !== undefined) {
        if (lon !== undefined || lat !== undefined) {
          throw new AppError('VALIDATION_FAILED', 400, 'Send either address or lon/lat, not both.', { in: 'querystring', field: 'address', reason: 'ADDRESS_AND_POSITION' });
        }
        return dispatch.lookupAddress(address, { at, limit }).then((answer) => {
          const serialize = (serializeAddress ??= reply.compileSerializationSchema(ADDRESS_SCHEMA, '200'));
          sendJsonText(reply, serialize(answer));
        });
      }
      if (lon === undefined || lat === undefined) {
        throw new AppError('VALIDATION_FAILED', 400, 'Send lon and lat (or address).', {
          in: 'querystring',
          field: lon === undefined ? 'lon' : 'lat',
          reason: 'POSITION_REQUIRED',
          missing: [lon === undefined ? 'lon' : null, lat === undefined ? 'lat' : null].filter((f) => f !== null),
        });
      }
      const found = dispatch.lookupPointNow({ lon, lat, crs, at });
      if (found instanceof Promise) {
        return found.then((answer) => {
          sendJsonText(reply, serializeDispatchResult(answer));
        });
      }
      sendJsonText(reply, serializeDispatchResult(found));
      return undefined;
    },
  );

  app.post(
    '/api/v1/dispatch/lookup',
    {
      config: { permission: 'dispatch:lookup' },
      schema: {
        tags: ['dispatch'],
        summary: 'Batch lookup: up to 10,000 points, answers in the same order',
        body: DispatchBatchBodySchema,
        response: { 200: DispatchBatchResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return { results: await dispatch.lookupBatch(request.body) };
    },
  );
};
