/**
 * Events on the wire (issue #7): intake, the workflow, listing (JSON or GeoJSON), the taxonomy, daily and
 * monthly reports and KPIs. Reporter contacts always travel masked. `overdue` is computed when the
 * event is read, never stored.
 */
import { Type, type Static } from 'typebox';
import { PointSchema } from './geojson';
import { PG_INT_MAX } from './common';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
// The format makes Ajv check the calendar too (2026-02-30 and month 13 match the pattern but are no dates).
const IsoDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date', description: 'YYYY-MM-DD (Asia/Shanghai)' });
const CategoryCode = Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$', maxLength: 64 });

export const EVENT_STATES = ['reported', 'accepted', 'rejected', 'dispatched', 'in_progress', 'resolved', 'verified', 'closed'] as const;
export type EventState = (typeof EVENT_STATES)[number];
export const EVENT_CHANNELS = ['patrol', 'hotline', 'resident', 'video', 'assigned'] as const;
export type EventChannel = (typeof EVENT_CHANNELS)[number];
export const EVENT_ACTIONS = [
  'accept', 'reject', 'dispatch', 'start', 'resolve', 'verify', 'close', 'reopen', 'transfer',
  'request_extension', 'approve_extension', 'reject_extension', 'amend',
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];
export type EventStage = 'accept' | 'dispatch' | 'handle' | 'verify';

/**
 * The deadline stage of each open state. States of one stage share its clock: dispatched → in_progress
 * keeps the handling deadline that began at dispatch (处置时限 runs from 派遣, so starting late cannot
 * buy a fresh period), resolved → verified the verification one. Closed and rejected have none.
 */
export const STAGE_OF_STATE: Readonly<Partial<Record<EventState, EventStage>>> = {
  reported: 'accept',
  accepted: 'dispatch',
  dispatched: 'handle',
  in_progress: 'handle',
  resolved: 'verify',
  verified: 'verify',
};

const StateSchema = Type.Union([
  Type.Literal('reported'), Type.Literal('accepted'), Type.Literal('rejected'), Type.Literal('dispatched'),
  Type.Literal('in_progress'), Type.Literal('resolved'), Type.Literal('verified'), Type.Literal('closed'),
]);
const ChannelSchema = Type.Union([Type.Literal('patrol'), Type.Literal('hotline'), Type.Literal('resident'), Type.Literal('video'), Type.Literal('assigned')], {
  description: 'patrol (grid worker), hotline (12345), resident, video, assigned (from above)',
});
const ActionSchema = Type.Union([
  Type.Literal('accept'), Type.Literal('reject'), Type.Literal('dispatch'), Type.Literal('start'), Type.Literal('resolve'),
  Type.Literal('verify'), Type.Literal('close'), Type.Literal('reopen'), Type.Literal('transfer'), Type.Literal('request_extension'),
  Type.Literal('approve_extension'), Type.Literal('reject_extension'), Type.Literal('amend'),
]);

// ---- taxonomy ----

export const StageHoursSchema = Type.Object({
  accept: Type.Number({ exclusiveMinimum: 0, maximum: 10000 }),
  dispatch: Type.Number({ exclusiveMinimum: 0, maximum: 10000 }),
  handle: Type.Number({ exclusiveMinimum: 0, maximum: 10000 }),
  verify: Type.Number({ exclusiveMinimum: 0, maximum: 10000 }),
});
export type StageHours = Static<typeof StageHoursSchema>;

export const EventCategorySchema = Type.Object({
  code: CategoryCode,
  parentCode: Nullable(CategoryCode),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  nameEn: Nullable(Type.String({ minLength: 1, maxLength: 100, description: 'English name (the web app\'s English view); null: the name serves both languages' })),
  sort: Type.Integer(),
  urgent: Type.Boolean({ description: 'deadlines in calendar hours (day and night) instead of working hours' }),
  hours: Nullable(StageHoursSchema),
});
export type EventCategory = Static<typeof EventCategorySchema>;

export const TaxonomySchema = Type.Object({
  version: Type.Integer(),
  name: Type.String(),
  active: Type.Boolean(),
  categories: Type.Array(EventCategorySchema),
});
export type Taxonomy = Static<typeof TaxonomySchema>;

export const TaxonomyInputSchema = Type.Object({
  name: Type.String({ maxLength: 100 }),
  categories: Type.Array(
    Type.Object({
      code: CategoryCode,
      parentCode: Type.Optional(Nullable(CategoryCode)),
      name: Type.String({ minLength: 1, maxLength: 100 }),
      nameEn: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }))),
      sort: Type.Optional(Type.Integer()),
      urgent: Type.Optional(Type.Boolean()),
      hours: Type.Optional(Nullable(StageHoursSchema)),
    }),
    { minItems: 1, maxItems: 1000 },
  ),
});
export type TaxonomyInput = Static<typeof TaxonomyInputSchema>;

// ---- intake ----

export const ReporterInputSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  phone: Type.Optional(Type.String({ pattern: '^[0-9+-]{5,20}$' })),
});

export const CreateEventBodySchema = Type.Object(
  {
    location: Type.Optional(PointSchema),
    address: Type.Optional(Type.String({ minLength: 2, maxLength: 300, description: 'resolved to a point when no location is given' })),
    category: CategoryCode,
    description: Type.String({ minLength: 1, maxLength: 10000 }),
    occurredAt: Type.Optional(DateTime),
    channel: ChannelSchema,
    reporter: Type.Optional(ReporterInputSchema),
    attachments: Type.Optional(Type.Array(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type CreateEventBody = Static<typeof CreateEventBodySchema>;

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

const StaffRefSchema = Type.Object({ id: Type.Integer(), name: Type.String(), role: Type.String() });

export const EventRoutingSchema = Type.Object({
  gridId: Nullable(Type.Integer()),
  gridCode: Nullable(Type.String()),
  gridName: Nullable(Type.String()),
  layoutId: Nullable(Type.Integer()),
  communityCode: Nullable(Type.String()),
  streetCode: Nullable(Type.String()),
  responsibleStaff: Nullable(StaffRefSchema),
  via: Type.String({ description: 'grid | nearest_grid | community | unrouted; or transfer' }),
  distanceM: Nullable(Type.Number()),
  note: Type.String(),
});
export type EventRouting = Static<typeof EventRoutingSchema>;

export const EventSchema = Type.Object({
  id: Type.Integer(),
  state: StateSchema,
  category: Type.Object({ code: Type.String(), name: Type.String(), nameEn: Nullable(Type.String()), parentCode: Nullable(Type.String()), taxonomyVersion: Type.Integer() }),
  description: Type.String(),
  channel: Type.String(),
  source: Type.String(),
  occurredAt: Type.String(),
  reportedAt: Type.String(),
  address: Nullable(Type.String()),
  location: PointSchema,
  reporter: Nullable(Type.Object({ name: Nullable(Type.String()), phone: Nullable(Type.String()) }, { description: 'masked' })),
  attachments: Type.Array(Type.String()),
  routing: EventRoutingSchema,
  stage: Nullable(Type.String()),
  stageDueAt: Nullable(Type.String()),
  dueAt: Type.String({ description: 'deadline to close, moved by approved extensions' }),
  overdue: Type.Boolean({ description: 'computed when read: open and past the stage or the closing deadline' }),
  assignee: Type.Object({ staffId: Nullable(Type.Integer()), department: Nullable(Type.String()) }),
  handlerUserId: Nullable(Type.Integer()),
  result: Nullable(Type.String()),
  rejectionReason: Nullable(Type.String()),
  pendingExtension: Nullable(Type.Object({ hours: Type.Number(), reason: Type.String(), requestedBy: Nullable(Type.Integer()), requestedAt: Type.String() })),
  extensionHours: Type.Number(),
  extensionCount: Type.Integer(),
  reopenCount: Type.Integer(),
  transferCount: Type.Integer(),
  resolvedAt: Nullable(Type.String()),
  closedAt: Nullable(Type.String()),
  updatedAt: Type.String(),
  possibleDuplicates: Type.Array(Type.Object({ id: Type.Integer(), distanceM: Nullable(Type.Number()) })),
  allowedActions: Type.Array(Type.String()),
  version: Type.Integer({ description: 'send it back as If-Match (or expectedVersion) on a transition' }),
});
export type Event = Static<typeof EventSchema>;

export const EventIdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 9007199254740991 }) });

// ---- workflow ----

export const TransitionBodySchema = Type.Object(
  {
    action: ActionSchema,
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    reason: Type.Optional(Type.String({ minLength: 2, maxLength: 2000, description: 'reject, reopen, transfer, request_extension' })),
    result: Type.Optional(Type.String({ minLength: 1, maxLength: 5000, description: 'resolve' })),
    staffId: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX, description: 'dispatch: to a staff member' })),
    department: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'dispatch: to a department' })),
    gridCode: Type.Optional(Type.String({ pattern: '^[0-9]{15}$', description: 'transfer: the receiving grid' })),
    hours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 2000, description: 'request_extension' })),
    category: Type.Optional(CategoryCode),
    location: Type.Optional(PointSchema),
    address: Type.Optional(Type.String({ minLength: 2, maxLength: 300 })),
    expectedVersion: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX })),
  },
  { additionalProperties: false },
);
export type TransitionBody = Static<typeof TransitionBodySchema>;

export const TransitionSchema = Type.Object({
  id: Type.Integer(),
  action: Type.String(),
  from: Nullable(Type.String()),
  to: Type.String(),
  at: Type.String(),
  actor: Type.Object({ userId: Nullable(Type.Integer()), name: Nullable(Type.String()) }),
  note: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type Transition = Static<typeof TransitionSchema>;

export const TransitionResultSchema = Type.Object({ event: EventSchema, transition: TransitionSchema });
export type TransitionResult = Static<typeof TransitionResultSchema>;
export const TimelineSchema = Type.Object({ eventId: Type.Integer(), transitions: Type.Array(TransitionSchema) });
export type Timeline = Static<typeof TimelineSchema>;

// ---- listing ----

export const EventListQuerySchema = Type.Object({
  grid: Type.Optional(Type.String({ pattern: '^[0-9]{15}$' })),
  community: Type.Optional(Type.String({ pattern: '^[0-9]{12}$' })),
  street: Type.Optional(Type.String({ pattern: '^[0-9]{9}$' })),
  state: Type.Optional(Type.String({ pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'comma-separated states' })),
  category: Type.Optional(CategoryCode),
  channel: Type.Optional(ChannelSchema),
  overdue: Type.Optional(Type.Boolean()),
  from: Type.Optional(DateTime),
  to: Type.Optional(DateTime),
  bbox: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$', description: 'minLng,minLat,maxLng,maxLat' })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: 9007199254740991, description: 'keyset: the last id of the previous page (newest first)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('geojson')])),
});
export type EventListQuery = Static<typeof EventListQuerySchema>;

export const EventListSchema = Type.Object({ items: Type.Array(EventSchema), next: Nullable(Type.Integer()) });
export type EventList = Static<typeof EventListSchema>;

export const EventFeatureCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(Type.Object({ type: Type.Literal('Feature'), id: Type.Integer(), geometry: PointSchema, properties: Type.Record(Type.String(), Type.Unknown()) })),
  next: Nullable(Type.Integer()),
});

export const CreatedEventSchema = EventSchema;

// ---- reports and KPIs ----

export const ReportFormatSchema = Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')]));

export const DailyReportQuerySchema = Type.Object({
  date: IsoDate,
  level: Type.Optional(Type.Union([Type.Literal('grid'), Type.Literal('community'), Type.Literal('street')])),
  scope: Type.Optional(Type.String({ pattern: '^[0-9]{6,15}$' })),
  format: ReportFormatSchema,
});
export type DailyReportQuery = Static<typeof DailyReportQuerySchema>;

export const DailyReportRowSchema = Type.Object({
  unitCode: Type.String(),
  unitName: Nullable(Type.String()),
  reported: Type.Integer(),
  reportedByCategory: Type.Record(Type.String(), Type.Integer()),
  accepted: Type.Integer(),
  resolved: Type.Integer(),
  closed: Type.Integer(),
  rejected: Type.Integer(),
  openAtEnd: Type.Integer(),
  overdueAtEnd: Type.Integer(),
});
export type DailyReportRow = Static<typeof DailyReportRowSchema>;
export const DailyReportSchema = Type.Object({
  date: Type.String(),
  level: Type.String(),
  scope: Nullable(Type.String()),
  rows: Type.Array(DailyReportRowSchema),
  totals: Type.Omit(DailyReportRowSchema, ['unitCode', 'unitName']),
});
export type DailyReport = Static<typeof DailyReportSchema>;

export const MonthlyEventsReportQuerySchema = Type.Object({
  month: Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$' }),
  scope: Type.Optional(Type.String({ pattern: '^[0-9]{6,15}$' })),
  format: ReportFormatSchema,
});
export type MonthlyEventsReportQuery = Static<typeof MonthlyEventsReportQuerySchema>;

export const MonthlyEventsReportSchema = Type.Object({
  month: Type.String(),
  scope: Nullable(Type.String()),
  registry: Type.Object({
    births: Nullable(Type.Integer()),
    deaths: Nullable(Type.Integer()),
    movedIn: Nullable(Type.Integer()),
    movedOut: Nullable(Type.Integer()),
    residents: Nullable(Type.Integer()),
    floating: Nullable(Type.Integer()),
    lowIncome: Nullable(Type.Integer()),
    shops: Nullable(Type.Integer()),
    shopEmployees: Nullable(Type.Integer()),
    note: Nullable(Type.String()),
  }),
  events: Type.Object({
    reported: Type.Integer(),
    reportedByCategory: Type.Record(Type.String(), Type.Integer()),
    resolved: Type.Integer(),
    closed: Type.Integer(),
    closedOnTime: Type.Integer(),
    rejected: Type.Integer(),
    reopened: Type.Integer(),
    openAtEnd: Type.Integer(),
    overdueAtEnd: Type.Integer(),
  }),
});
export type MonthlyEventsReport = Static<typeof MonthlyEventsReportSchema>;

export const KpiQuerySchema = Type.Object({
  from: DateTime,
  to: DateTime,
  by: Type.Optional(Type.Union([Type.Literal('grid'), Type.Literal('staff')])),
  minEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'rank only units with at least this many events (default 10)' })),
  scope: Type.Optional(Type.String({ pattern: '^[0-9]{6,15}$' })),
  format: ReportFormatSchema,
});
export type KpiQuery = Static<typeof KpiQuerySchema>;

export const KpiRowSchema = Type.Object({
  key: Type.String({ description: 'grid code or staff id' }),
  name: Nullable(Type.String()),
  events: Type.Integer(),
  closed: Type.Integer(),
  closedOnTime: Type.Integer(),
  closureRate: Type.Number(),
  onTimeClosureRate: Type.Number({ description: 'closed on time / events' }),
  meanHoursToClose: Nullable(Type.Number()),
  p90HoursToClose: Nullable(Type.Number({ description: 'percentile_cont(0.9), linear interpolation' })),
  reopened: Type.Integer(),
  reworkRate: Type.Number(),
  extended: Type.Integer(),
  extensionRate: Type.Number(),
  rank: Nullable(Type.Integer({ description: 'null below minEvents' })),
});
export type KpiRow = Static<typeof KpiRowSchema>;
export const KpiReportSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  by: Type.String(),
  minEvents: Type.Integer(),
  rows: Type.Array(KpiRowSchema),
});
export type KpiReport = Static<typeof KpiReportSchema>;
