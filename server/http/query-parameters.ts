/**
 * Unknown query parameters are refused: 400 VALIDATION_FAILED naming the parameter (details.in
 * 'querystring', details.field its name, details.accepted the route's parameters). Lists are filtered
 * by query parameters, so a misspelt filter (`?staus=open`, `?gird=…`) that was ignored would answer
 * every row and no error.
 *
 * Decided once per route when it is registered (an onRoute hook), from its querystring schema:
 *
 * - a querystring schema: its properties are the parameters the route accepts;
 * - none: the route takes no query parameters;
 * - a querystring schema that states `additionalProperties` itself (true or a schema): open. Only where
 *   a standard needs it, and documented beside the schema: OGC API – Features items (property filters,
 *   which the OGC service checks against the collection's queryables, answering the same 400) and
 *   Open311 GeoReport v2 (server/contracts/open311.ts);
 * - routes of third-party plugins, registered through `registerForeign`: not this API. A CORS preflight
 *   carries the URL of the request it asks about, query included; the web app's page keeps its state in
 *   its own query (`/?view=editor&community=…`); swagger-ui's files.
 *
 * The check is a preValidation hook of the route, ahead of the schemas: the answer names the unknown
 * parameter whatever else is wrong (Fastify validates the body before the query string).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { AppError } from './errors';

export interface QueryParameterRegistration {
  /** Register third-party plugins (CORS, swagger-ui, static files) whose routes' query strings are not checked. */
  registerForeign(register: () => PromiseLike<unknown>): Promise<void>;
}

interface QuerySchema {
  type?: unknown;
  properties?: Record<string, unknown>;
  additionalProperties?: unknown;
}

/**
 * The query parameters a route accepts, from its querystring schema: undefined when the schema leaves
 * them open on purpose (states `additionalProperties` other than false).
 */
export function acceptedQueryParameters(schema: unknown, route = 'this route'): string[] | undefined {
  if (schema === undefined || schema === null) return [];
  const s = schema as QuerySchema;
  if (s.type !== 'object') throw new Error(`The querystring schema of ${route} is not an object of named parameters; unknown query parameters could not be told apart.`);
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) return undefined;
  return Object.keys(s.properties ?? {});
}

function unknownParameters(unknown: string[], accepted: string[]): AppError {
  const names = unknown.map((n) => `"${n}"`).join(', ');
  const message =
    accepted.length === 0
      ? `Unknown query parameter${unknown.length > 1 ? 's' : ''} ${names}: this route takes no query parameters.`
      : `Unknown query parameter${unknown.length > 1 ? 's' : ''} ${names}. Accepted: ${accepted.join(', ')}.`;
  // `?=1` has a parameter without a name: refused too, but there is no name to give as the field.
  const field = unknown.find((n) => n !== '');
  return new AppError('VALIDATION_FAILED', 400, message, { in: 'querystring', ...(field === undefined ? {} : { field }), unknown, accepted });
}

/** Call before any route is registered (the hook sees only routes registered after it). */
export function registerQueryParameterCheck(app: FastifyInstance): QueryParameterRegistration {
  let foreign = false;

  app.addHook('onRoute', (route: RouteOptions) => {
    if (foreign) return;
    const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
    const accepted = acceptedQueryParameters(route.schema?.querystring, `${methods} ${route.url}`);
    if (accepted === undefined) return;
    const known = new Set(accepted);
    // Callback style and no allocation when every key is known: tiles and lookups are hot paths.
    const check = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      const query = request.query as Record<string, unknown>;
      for (const key in query) {
        if (!known.has(key)) {
          done(unknownParameters(Object.keys(query).filter((k) => !known.has(k)), accepted));
          return;
        }
      }
      done();
    };
    const own = Array.isArray(route.preValidation) ? route.preValidation : route.preValidation ? [route.preValidation] : [];
    route.preValidation = [check, ...own];
  });

  return {
    async registerForeign(register) {
      foreign = true;
      try {
        await register();
      } finally {
        foreign = false;
      }
    },
  };
}
