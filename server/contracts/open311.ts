/**
 * Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) on the wire, JSON only. Service codes are
 * our event sub-type codes; `status` is open/closed, `agency_responsible` the grid, `expected_datetime`
 * the closing deadline. Errors keep this API's one error shape, not GeoReport's array of errors.
 */
import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
/** Form posts carry numbers as text; JSON clients may send numbers. */
const NumberLike = (min: number, max: number) => Type.Union([Type.Number({ minimum: min, maximum: max }), Type.String({ pattern: '^-?[0-9]+(\\.[0-9]+)?$', maxLength: 30 })]);

export const Open311ServiceSchema = Type.Object({
  service_code: Type.String(),
  service_name: Type.String(),
  description: Type.String(),
  metadata: Type.Boolean(),
  type: Type.Literal('realtime'),
  keywords: Type.String(),
  group: Type.String(),
});
export const Open311ServiceListSchema = Type.Array(Open311ServiceSchema);
export type Open311Service = Static<typeof Open311ServiceSchema>;

export const Open311CreateBodySchema = Type.Object(
  {
    service_code: Type.String({ minLength: 1, maxLength: 64 }),
    lat: Type.Optional(NumberLike(-90, 90)),
    long: Type.Optional(NumberLike(-180, 180)),
    address_string: Type.Optional(Type.String({ minLength: 2, maxLength: 300 })),
    address_id: Type.Optional(Type.String({ maxLength: 100 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    media_url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 })),
    first_name: Type.Optional(Type.String({ maxLength: 50 })),
    last_name: Type.Optional(Type.String({ maxLength: 50 })),
    phone: Type.Optional(Type.String({ pattern: '^[0-9+-]{5,20}$' })),
    email: Type.Optional(Type.String({ maxLength: 200 })),
    device_id: Type.Optional(Type.String({ maxLength: 200 })),
    account_id: Type.Optional(Type.String({ maxLength: 200 })),
    api_key: Type.Optional(Type.String({ maxLength: 200 })),
    jurisdiction_id: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: true },
);
export type Open311CreateBody = Static<typeof Open311CreateBodySchema>;

export const Open311CreatedSchema = Type.Array(
  Type.Object({ service_request_id: Type.String(), service_notice: Type.String(), account_id: Nullable(Type.String()) }),
);

export const Open311RequestSchema = Type.Object({
  service_request_id: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  status_notes: Nullable(Type.String()),
  service_name: Type.String(),
  service_code: Type.String(),
  description: Type.String(),
  agency_responsible: Nullable(Type.String()),
  service_notice: Nullable(Type.String()),
  requested_datetime: Type.String(),
  updated_datetime: Type.String(),
  expected_datetime: Nullable(Type.String()),
  address: Nullable(Type.String()),
  address_id: Nullable(Type.String()),
  zipcode: Nullable(Type.String()),
  lat: Type.Number(),
  long: Type.Number(),
  media_url: Nullable(Type.String()),
});
export type Open311Request = Static<typeof Open311RequestSchema>;
export const Open311RequestListSchema = Type.Array(Open311RequestSchema);

/**
 * Open311 query strings stay open: the one exception to this API's refusal of unknown query parameters
 * besides OGC items (server/http/query-parameters.ts). GeoReport v2 clients are written for many
 * servers and send the same arguments to each: jurisdiction_id (optional on every method), api_key
 * (which some send on every call, not only with POST), and the extensions of the servers they were
 * built for. A server that does not use one must not refuse the request for it.
 */
const Open311Arguments = {
  jurisdiction_id: Type.Optional(Type.String({ maxLength: 200 })),
  api_key: Type.Optional(Type.String({ maxLength: 200 })),
};
export const Open311QuerySchema = Type.Object(Open311Arguments, { additionalProperties: true });

export const Open311RequestsQuerySchema = Type.Object(
  {
    // Each id as the one-request path takes it (15 digits at most), so none overflows the bigint column in SQL.
    service_request_id: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}(,[0-9]{1,15})*$', maxLength: 2000 })),
    service_code: Type.Optional(Type.String({ maxLength: 64 })),
    start_date: Type.Optional(Type.String({ format: 'date-time' })),
    end_date: Type.Optional(Type.String({ format: 'date-time' })),
    status: Type.Optional(Type.String({ pattern: '^(open|closed)(,(open|closed))?$' })),
    ...Open311Arguments,
  },
  { additionalProperties: true },
);
export type Open311RequestsQuery = Static<typeof Open311RequestsQuerySchema>;

export const Open311IdParamsSchema = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) });
