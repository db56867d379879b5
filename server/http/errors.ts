/**
 * One error shape for every failure: `{ error: { code, message, details } }`.
 * `code` is a literal union so clients (and the web app's message files) can switch on it.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'VERSION_CONFLICT'
  | 'PRECONDITION_REQUIRED'
  | 'DATABASE_UNAVAILABLE'
  | 'QUERY_TIMEOUT'
  | 'INTERNAL_ERROR'
  | 'GEOMETRY_INVALID'
  | 'GRID_OVERLAP'
  | 'GRID_NOT_FOUND'
  | 'LAYOUT_NOT_FOUND'
  | 'LAYOUT_PUBLISHED'
  | 'LAYOUT_NOT_DRAFT'
  | 'LAYOUT_INVALID'
  | 'DIVISION_NOT_FOUND'
  | 'DIVISION_INVALID'
  | 'IMPORT_FAILED'
  | 'GRIDS_NOT_ADJACENT'
  | 'GRIDS_NOT_IN_ONE_LAYOUT'
  | 'GRID_OUTSIDE_BOUNDARY'
  | 'GAP_NOT_FOUND'
  | 'SPLIT_FAILED'
  | 'DIVISION_EXISTS'
  | 'DIVISION_HAS_CHILDREN'
  | 'COMMUNITY_HAS_NO_BOUNDARY'
  | 'UNSUPPORTED_FORMAT'
  // accounts and access (issue #4)
  | 'UNAUTHENTICATED'
  | 'TOKEN_EXPIRED'
  | 'FORBIDDEN'
  | 'OUT_OF_SCOPE'
  | 'PURPOSE_REQUIRED'
  | 'INVALID_CREDENTIALS'
  | 'ACCOUNT_LOCKED'
  | 'RATE_LIMITED'
  | 'PASSWORD_CHANGE_REQUIRED'
  | 'PASSWORD_TOO_WEAK'
  | 'REFRESH_TOKEN_REUSED'
  | 'USER_NOT_FOUND'
  | 'USER_EXISTS'
  | 'API_TOKEN_NOT_FOUND'
  | 'LAST_ADMIN'
  | 'URI_TOO_LONG'
  | 'ID_NUMBER_INVALID';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/**
 * Where in the request an error lies, as `details.in` and `details.field` say it: every 4xx caused by
 * one input names it (server/http/error-where.unit.test.ts holds the services to this). `field` is the
 * path parameter, query parameter or header (lower case) name, or a body field: a name, or a path with
 * `/` between steps for nested fields (`ids/1`, `shifts/0`, `features/3/geometry`). A few older body
 * fields are written with dots (`properties.code`) and stay so, since clients match on them. `url` is
 * the URL itself: malformed, or no route there.
 */
export type RequestPart = 'body' | 'querystring' | 'params' | 'headers' | 'url';
export interface Where {
  in: RequestPart;
  field?: string;
}

/** The id in the path (`/api/v1/grids/:id`): the where of most 404s and state conflicts. */
export const PATH_ID: Where = { in: 'params', field: 'id' };
/** The code in the path (`/api/v1/divisions/:code`, `/api/v1/communities/:code/layouts`). */
export const PATH_CODE: Where = { in: 'params', field: 'code' };
/** The version a writer sent (optimistic concurrency): the where of every VERSION_CONFLICT. */
export const IF_MATCH: Where = { in: 'headers', field: 'if-match' };
/** The key that makes a retry safe (events, Open311). */
export const IDEMPOTENCY_KEY: Where = { in: 'headers', field: 'idempotency-key' };

export const notFound = (code: ErrorCode, message: string, details: Where & Record<string, unknown>): AppError => new AppError(code, 404, message, details);

/**
 * Every GEOMETRY_INVALID, as every route answers it: 422 with the reason, where in the request
 * (`in`/`field`: the geometry, or PATH_ID for an edit of the grid there), `path` inside that geometry
 * (`coordinates[0][3]`, as the grid routes always said it) and the `[lng, lat]` place to show on the
 * map, each left out when unknown. `reason` is the GeometryRejection of server/geo's checks
 * (validatePolygonGeometry, gate 2), or for PostGIS's check (ST_IsValidDetail, gate 3) GEOS's own
 * reason (`Self-intersection`), which has no gate-2 name. `extra` adds route-specific details (a hint,
 * the grid edited).
 */
export function geometryInvalid(
  rejected: { reason: string; message: string; path?: string; location?: [number, number] | null },
  where: Where,
  extra: Record<string, unknown> = {},
): AppError {
  const path = rejected.path === undefined || rejected.path === '' ? undefined : rejected.path;
  return new AppError('GEOMETRY_INVALID', 422, rejected.message, {
    ...where,
    reason: rejected.reason,
    ...(path === undefined ? {} : { path }),
    ...(rejected.location == null ? {} : { location: rejected.location }),
    ...extra,
  });
}

/**
 * The field of a schema failure in the `field` convention: the JSON Pointer without its leading slash
 * (`features/0/geometry`), or for a missing or unexpected property its name under that path.
 */
export function fieldOfProblem(problem: { instancePath: string; params?: unknown } | undefined): string | undefined {
  if (!problem) return undefined;
  const params = (problem.params ?? {}) as { missingProperty?: unknown; additionalProperty?: unknown };
  const name = typeof params.missingProperty === 'string' ? params.missingProperty : typeof params.additionalProperty === 'string' ? params.additionalProperty : undefined;
  const steps = problem.instancePath.split('/').filter((s) => s !== '');
  if (name !== undefined) steps.push(name.replaceAll('~', '~0').replaceAll('/', '~1'));
  return steps.length === 0 ? undefined : steps.join('/');
}

/** Postgres SQLSTATEs that mean "the database is not there right now". */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && (UNAVAILABLE_STATES.has(e.code) || UNAVAILABLE_NODE_CODES.has(e.code))) return true;
  return typeof e?.message === 'string' && /timeout exceeded when trying to connect|Connection terminated/i.test(e.message);
}

interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

function body(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/**
 * Failures the router meets before any route or hook runs (a path parameter over maxParamLength, an
 * undecodable URL): the same error shape as everything else. Pass as Fastify's `frameworkErrors`.
 */
/** Longest path parameter the router accepts (Fastify's `routerOptions.maxParamLength`). */
export const MAX_PARAM_LENGTH = 200;

export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.status(414).send(body('URI_TOO_LONG', 'A path parameter is longer than the server accepts.', { in: 'params', maxLength: MAX_PARAM_LENGTH }));
    return;
  }
  void reply.status(400).send(body('VALIDATION_FAILED', 'The URL is malformed.', { in: 'url', reason: err.code }));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    if (err instanceof AppError) {
      if (err.statusCode === 401) void reply.header('www-authenticate', `Bearer error="${err.code === 'TOKEN_EXPIRED' ? 'invalid_token' : 'unauthorized'}"`);
      const retryAfter = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (typeof retryAfter === 'number') void reply.header('retry-after', String(Math.ceil(retryAfter)));
      return reply.status(err.statusCode).send(body(err.code, err.message, err.details));
    }
    const fe = err as FastifyError & { validation?: Array<{ instancePath: string; message?: string; params?: unknown; keyword: string }>; validationContext?: string };
    if (fe.validation) {
      const where = fe.validationContext ?? 'request';
      const field = fieldOfProblem(fe.validation[0]);
      return reply.status(400).send(
        body('VALIDATION_FAILED', `Invalid ${where}: ${fe.message}`, {
          in: where,
          ...(field === undefined ? {} : { field }),
          problems: fe.validation.map((v) => ({ path: v.instancePath || '/', keyword: v.keyword, message: v.message ?? '', params: v.params })),
        }),
      );
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.status(400).send(body('MALFORMED_JSON', 'The request body is not valid JSON.', { in: 'body', reason: fe.message }));
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.status(413).send(body('PAYLOAD_TOO_LARGE', 'The request body is larger than the server accepts.', { in: 'body', limitBytes: app.initialConfig.bodyLimit }));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return reply.status(415).send(body('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.', { in: 'headers', field: 'content-type', contentType: request.headers['content-type'] ?? null }));
      default:
        break;
    }
    const pgCode = (err as { code?: string }).code;
    if (pgCode === '57014') {
      return reply.status(503).send(body('QUERY_TIMEOUT', 'The query took too long and was cancelled; narrow the request.'));
    }
    if (isDatabaseUnavailable(err)) {
      request.log.warn({ err }, 'database unavailable');
      return reply.status(503).send(body('DATABASE_UNAVAILABLE', 'The database is not reachable right now; try again shortly.'));
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(body('VALIDATION_FAILED', fe.message));
    }
    request.log.error({ err, url: request.url, method: request.method }, 'unhandled error');
    return reply.status(500).send(body('INTERNAL_ERROR', 'Something went wrong on the server.'));
  });
}
