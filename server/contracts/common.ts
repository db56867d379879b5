/**
 * Wire schemas shared by every module. Isomorphic: the web app imports these types too.
 */
import { Type, type Static } from 'typebox';

/** The largest int4 (PostgreSQL `integer`, every id and counter column here): a larger number is a 400, not a database error. */
export const PG_INT_MAX = 2_147_483_647;

/**
 * `:id` in the path of anything held by an int4 id (grids, layouts, users, API tokens, registry rows): 1 to
 * PG_INT_MAX, so a larger number is a 400, not a database error. Errors about it say where as PATH_ID
 * (server/http/errors.ts: `{ in: 'params', field: 'id' }`), which is why the property stays `id`.
 * Events keep their own (bigint ids); Open311 ids are strings.
 */
export const IdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }) });

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. GEOMETRY_INVALID' }),
      message: Type.String(),
      details: Type.Optional(
        Type.Unknown({
          description:
            'Facts of the failure. A 4xx caused by the request says where: `in` (body, querystring, params, headers, or url for the URL itself) and `field` (the parameter or header name, or a body path such as `ids/1`).',
        }),
      ),
    }),
  },
  { description: 'Every failure has this shape.' },
);
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

/** Responses for the failures any route may produce; spread into a route's `response`. */
export const commonErrorResponses = {
  400: ErrorResponseSchema,
  500: ErrorResponseSchema,
  503: ErrorResponseSchema,
} as const;
