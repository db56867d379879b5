/**
 * The registry on the wire (issue #5): buildings, households, residents, organisations, the re-division
 * impact preview and the monthly report. ID numbers and phones always travel masked
 * (`410105********123X`, `138****5678`); the full values come only from the reveal endpoint.
 */
import { Type, type Static } from 'typebox';
import { AnyGeometrySchema, MultiPolygonSchema, PointSchema, PolygonSchema } from './geojson';
import { BUILDING_USES, ORGANISATION_KINDS, REGISTRATIONS, RELATIONS, TENURES } from './registry-values';
import { PG_INT_MAX } from './common';

export { BUILDING_USES, ORGANISATION_KINDS, REGISTRATIONS, RELATIONS, TENURES };

/** A building or organisation: a footprint, or a point where none is known. */
const PlaceGeometry = Type.Union([PointSchema, PolygonSchema, MultiPolygonSchema]);

const Code12 = Type.String({ pattern: '^[0-9]{12}$' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
// The format makes Ajv check the calendar too (2026-02-30 and month 13 match the pattern but are no dates).
const IsoDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date', description: 'YYYY-MM-DD' });

export const BBOX_PATTERN = '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$';

/** Common list filters; every list is keyset-paged by id (`after` = the last id of the previous page). */
export const ListQuerySchema = Type.Object({
  grid: Type.Optional(Type.String({ pattern: '^[0-9]{9,15}$', description: 'grid code, or a street/community code prefix' })),
  gridId: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX })),
  community: Type.Optional(Code12),
  bbox: Type.Optional(Type.String({ pattern: BBOX_PATTERN, description: 'minLng,minLat,maxLng,maxLat' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'text: name, address, code' })),
  tag: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]*$' })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: PG_INT_MAX })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  includeDeleted: Type.Optional(Type.Boolean()),
});
export type ListQuery = Static<typeof ListQuerySchema>;

export const DeleteBodySchema = Type.Object({ reason: Type.String({ minLength: 2, maxLength: 500 }) });

const Placement = {
  gridId: Nullable(Type.Integer()),
  gridCode: Nullable(Type.String()),
  communityCode: Nullable(Type.String()),
  version: Type.Integer({ description: 'send it back in If-Match to update' }),
  deletedAt: Nullable(Type.String()),
};

const BuildingUse = Type.Enum(BUILDING_USES);

export const BuildingSchema = Type.Object({
  id: Type.Integer(),
  code: Type.String({ description: '5-digit sequence within the community' }),
  externalId: Nullable(Type.String()),
  name: Type.String(),
  address: Type.String(),
  use: BuildingUse,
  floors: Nullable(Type.Integer()),
  geometry: AnyGeometrySchema,
  ...Placement,
});
export type Building = Static<typeof BuildingSchema>;

export const BuildingInputSchema = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 200 })),
  address: Type.Optional(Type.String({ maxLength: 300 })),
  use: Type.Optional(BuildingUse),
  floors: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 300 }))),
  externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  communityCode: Type.Optional(Code12),
  geometry: PlaceGeometry,
});
export type BuildingInput = Static<typeof BuildingInputSchema>;

export const BuildingListSchema = Type.Object({ items: Type.Array(BuildingSchema), next: Nullable(Type.Integer()) });

const Tenure = Type.Enum(TENURES);

export const HouseholdSchema = Type.Object({
  id: Type.Integer(),
  buildingId: Type.Integer(),
  buildingCode: Type.String(),
  address: Type.String(),
  unit: Type.String(),
  room: Type.String(),
  tenure: Tenure,
  members: Type.Integer({ description: 'present residents' }),
  ...Placement,
});
export type Household = Static<typeof HouseholdSchema>;

export const HouseholdInputSchema = Type.Object({
  buildingId: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }),
  unit: Type.Optional(Type.String({ maxLength: 20 })),
  room: Type.Optional(Type.String({ maxLength: 20 })),
  tenure: Type.Optional(Tenure),
  effectiveDate: Type.Optional(IsoDate),
});
export type HouseholdInput = Static<typeof HouseholdInputSchema>;
export const HouseholdListSchema = Type.Object({ items: Type.Array(HouseholdSchema), next: Nullable(Type.Integer()) });

export const RESIDENT_STATUSES = ['present', 'moved_out', 'deceased'] as const;

export const ResidentSchema = Type.Object({
  id: Type.Integer(),
  householdId: Nullable(Type.Integer()),
  name: Type.String(),
  gender: Type.Union([Type.Literal('M'), Type.Literal('F')]),
  birthDate: IsoDate,
  idNumber: Type.String({ description: 'masked: region + 8 stars + last 4' }),
  phone: Nullable(Type.String({ description: 'masked: 3 + 4 stars + 4' })),
  relation: Type.Enum(RELATIONS),
  registration: Type.Enum(REGISTRATIONS),
  tags: Type.Array(Type.String()),
  status: Type.Enum(RESIDENT_STATUSES),
  ...Placement,
});
export type Resident = Static<typeof ResidentSchema>;

export const ResidentInputSchema = Type.Object({
  householdId: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  gender: Type.Union([Type.Literal('M'), Type.Literal('F')]),
  birthDate: IsoDate,
  idNumber: Type.String({ minLength: 1, maxLength: 32 }),
  phone: Type.Optional(Nullable(Type.String({ pattern: '^1[0-9]{10}$' }))),
  relation: Type.Optional(Type.Enum(RELATIONS)),
  registration: Type.Enum(REGISTRATIONS),
  tags: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), { maxItems: 20, uniqueItems: true })),
  /** How the person arrived: born here, moved in, or an existing resident being registered. */
  arrival: Type.Optional(Type.Union([Type.Literal('registered'), Type.Literal('birth'), Type.Literal('move_in')])),
  effectiveDate: Type.Optional(IsoDate),
});
export type ResidentInput = Static<typeof ResidentInputSchema>;

export const ResidentUpdateSchema = Type.Object({
  householdId: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  phone: Type.Optional(Nullable(Type.String({ pattern: '^1[0-9]{10}$' }))),
  relation: Type.Optional(Type.Enum(RELATIONS)),
  registration: Type.Optional(Type.Enum(REGISTRATIONS)),
  tags: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), { maxItems: 20, uniqueItems: true })),
  status: Type.Optional(Type.Enum(RESIDENT_STATUSES)),
  effectiveDate: Type.Optional(IsoDate),
});
export type ResidentUpdate = Static<typeof ResidentUpdateSchema>;

export const ResidentListQuerySchema = Type.Object({
  ...ListQuerySchema.properties,
  idNumber: Type.Optional(Type.String({ minLength: 18, maxLength: 18, description: 'exact, via the keyed hash' })),
  registration: Type.Optional(Type.Enum(REGISTRATIONS)),
  status: Type.Optional(Type.Enum(RESIDENT_STATUSES)),
  household: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX })),
});
export type ResidentListQuery = Static<typeof ResidentListQuerySchema>;
export const ResidentListSchema = Type.Object({ items: Type.Array(ResidentSchema), next: Nullable(Type.Integer()) });

export const RevealBodySchema = Type.Object({ purpose: Type.String({ minLength: 4, maxLength: 500, description: 'why the full values are needed (audited)' }) });
export const RevealedSchema = Type.Object({ id: Type.Integer(), idNumber: Type.String(), phone: Nullable(Type.String()) });

export const OrganisationSchema = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  name: Type.String(),
  kind: Type.Enum(ORGANISATION_KINDS),
  category: Type.String(),
  employees: Type.Integer(),
  address: Type.String(),
  openedOn: IsoDate,
  closedOn: Nullable(IsoDate),
  geometry: AnyGeometrySchema,
  ...Placement,
});
export type Organisation = Static<typeof OrganisationSchema>;
export const OrganisationInputSchema = Type.Object({
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Enum(ORGANISATION_KINDS),
  category: Type.Optional(Type.String({ maxLength: 100 })),
  employees: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  address: Type.Optional(Type.String({ maxLength: 300 })),
  openedOn: Type.Optional(IsoDate),
  closedOn: Type.Optional(Nullable(IsoDate)),
  effectiveDate: Type.Optional(IsoDate),
  /** Creation only: the community it belongs to (default: the one covering it). */
  communityCode: Type.Optional(Code12),
  geometry: PlaceGeometry,
});
export type OrganisationInput = Static<typeof OrganisationInputSchema>;
export const OrganisationListSchema = Type.Object({ items: Type.Array(OrganisationSchema), next: Nullable(Type.Integer()) });

/** One flow of the re-division preview: what moves from one grid to another. */
export const ImpactMoveSchema = Type.Object({
  fromGridCode: Nullable(Type.String()),
  toGridId: Nullable(Type.Integer()),
  toGridCode: Nullable(Type.String()),
  buildings: Type.Integer(),
  households: Type.Integer(),
  residents: Type.Integer(),
});
export const LayoutImpactSchema = Type.Object({
  layoutId: Type.Integer(),
  communityCode: Type.String(),
  /** Totals that would change grid (from ≠ to) if the layout were published now. */
  moved: Type.Object({ buildings: Type.Integer(), households: Type.Integer(), residents: Type.Integer() }),
  /** Every (from, to) pair including those that stay (from = to), ordered by codes. */
  moves: Type.Array(ImpactMoveSchema),
  /** Per grid of the previewed layout: what it would hold. */
  grids: Type.Array(Type.Object({ gridId: Type.Integer(), gridCode: Nullable(Type.String()), buildings: Type.Integer(), households: Type.Integer(), residents: Type.Integer() })),
});
export type LayoutImpact = Static<typeof LayoutImpactSchema>;

export const MonthlyReportQuerySchema = Type.Object({
  // Year 0000 matches the shape but PostgreSQL has no year 0 (it was a 500).
  month: Type.String({ pattern: '^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM' }),
  scope: Type.String({ pattern: '^[0-9]{6,15}$', description: 'district/street/community/grid code' }),
});
export const MonthlyReportSchema = Type.Object({
  month: Type.String(),
  scope: Type.String(),
  births: Type.Integer(),
  deaths: Type.Integer(),
  movedIn: Type.Integer(),
  movedOut: Type.Integer(),
  /** At the end of the month. */
  residents: Type.Integer(),
  floating: Type.Integer(),
  lowIncome: Type.Integer(),
  shops: Type.Integer(),
  shopEmployees: Type.Integer(),
});
export type MonthlyReport = Static<typeof MonthlyReportSchema>;

export const TagSchema = Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String(), sensitive: Type.Boolean(), addedIn: Type.Integer(), retiredIn: Nullable(Type.Integer()) });
export const TagListSchema = Type.Object({ version: Type.Integer(), tags: Type.Array(TagSchema) });

// Organisations, staff, grid members and roster ---------------------------------------------------

export const OrganisationListQuerySchema = Type.Object({
  ...ListQuerySchema.properties,
  kind: Type.Optional(Type.Enum(ORGANISATION_KINDS)),
});
export type OrganisationListQuery = Static<typeof OrganisationListQuerySchema>;

export const STAFF_ROLES = ['grid_leader', 'full_time_worker', 'part_time_worker', 'party_secretary', 'community_police', 'community_duty_officer', 'street_duty_officer'] as const;
export const ASSIGNMENT_ROLES = ['grid_leader', 'full_time_worker', 'part_time_worker', 'party_secretary', 'community_police'] as const;

export const StaffSchema = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  name: Type.String(),
  gender: Nullable(Type.Union([Type.Literal('M'), Type.Literal('F')])),
  phone: Nullable(Type.String({ description: 'work contact, shown in full' })),
  role: Type.Enum(STAFF_ROLES),
  unitCode: Type.String({ description: 'division (9/12 digits) or grid (15) they belong to' }),
  /** Current assignments (today, Asia/Shanghai). */
  grids: Type.Array(Type.Object({ gridCode: Type.String(), role: Type.Enum(ASSIGNMENT_ROLES) })),
  version: Type.Integer(),
  deletedAt: Nullable(Type.String()),
});
export type Staff = Static<typeof StaffSchema>;

export const StaffInputSchema = Type.Object({
  code: Type.String({ pattern: '^[A-Z0-9]{1,32}$' }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  gender: Type.Optional(Nullable(Type.Union([Type.Literal('M'), Type.Literal('F')]))),
  phone: Type.Optional(Nullable(Type.String({ pattern: '^[0-9+-]{5,20}$' }))),
  role: Type.Enum(STAFF_ROLES),
  unitCode: Type.String({ pattern: '^[0-9]{6,15}$' }),
});
export type StaffInput = Static<typeof StaffInputSchema>;

export const StaffListQuerySchema = Type.Object({
  grid: Type.Optional(Type.String({ pattern: '^[0-9]{6,15}$', description: 'staff belonging to or assigned to grids under this code' })),
  community: Type.Optional(Code12),
  bbox: Type.Optional(Type.String({ pattern: BBOX_PATTERN, description: 'staff assigned to published grids meeting this box' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'name, code or phone' })),
  role: Type.Optional(Type.Enum(STAFF_ROLES)),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: PG_INT_MAX })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  includeDeleted: Type.Optional(Type.Boolean()),
});
export type StaffListQuery = Static<typeof StaffListQuerySchema>;
export const StaffListSchema = Type.Object({ items: Type.Array(StaffSchema), next: Nullable(Type.Integer()) });

export const GridMemberSchema = Type.Object({
  assignmentId: Type.Integer(),
  staffId: Type.Integer(),
  staffCode: Type.String(),
  name: Type.String(),
  phone: Nullable(Type.String()),
  role: Type.Enum(ASSIGNMENT_ROLES),
  fromDate: IsoDate,
  toDate: Nullable(IsoDate),
});
export const GridMembersSchema = Type.Object({ gridId: Type.Integer(), gridCode: Type.String(), on: IsoDate, members: Type.Array(GridMemberSchema) });
export const GridMembersQuerySchema = Type.Object({ on: Type.Optional(IsoDate) });
export const AssignmentInputSchema = Type.Object({
  staffId: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }),
  role: Type.Enum(ASSIGNMENT_ROLES),
  fromDate: Type.Optional(IsoDate),
  toDate: Type.Optional(Nullable(IsoDate)),
});
export type AssignmentInput = Static<typeof AssignmentInputSchema>;
export const AssignmentParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }), assignmentId: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }) });

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$', description: 'HH:MM, Asia/Shanghai; end may be 24:00' });
export const ShiftSchema = Type.Object({ id: Type.Integer(), staffId: Type.Integer(), staffCode: Type.String(), name: Type.String(), weekday: Type.Integer({ minimum: 1, maximum: 7 }), start: HHMM, end: HHMM });
export const ShiftInputSchema = Type.Object({ staffId: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }), weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO: 1 = Monday' }), start: HHMM, end: HHMM });
export const ROSTER_EXCEPTION_KINDS = ['leave', 'holiday', 'extra'] as const;
export const RosterExceptionSchema = Type.Object({
  id: Type.Integer(),
  kind: Type.Enum(ROSTER_EXCEPTION_KINDS),
  staffId: Nullable(Type.Integer()),
  staffCode: Nullable(Type.String()),
  scopeCode: Nullable(Type.String()),
  startsAt: Type.String(),
  endsAt: Type.String(),
  reason: Type.String(),
});
export const RosterExceptionInputSchema = Type.Object({
  kind: Type.Enum(ROSTER_EXCEPTION_KINDS),
  staffId: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX, description: 'leave and extra: whose' })),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  reason: Type.Optional(Type.String({ maxLength: 200 })),
});
export type RosterExceptionInput = Static<typeof RosterExceptionInputSchema>;
export const RosterSchema = Type.Object({
  gridId: Type.Integer(),
  gridCode: Type.String(),
  /** Weekly shifts of this grid (grid-level; community/street duty officers are on their own scopes). */
  shifts: Type.Array(ShiftSchema),
  /** Exceptions touching this grid in [from, to): its staff's leave, holidays over it, extra shifts in it. */
  exceptions: Type.Array(RosterExceptionSchema),
});
export const RosterQuerySchema = Type.Object({ from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })) });
export const RosterPutSchema = Type.Object({ shifts: Type.Array(ShiftInputSchema, { maxItems: 500 }) });
export type ShiftInput = Static<typeof ShiftInputSchema>;
export const ExceptionParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }), exceptionId: Type.Integer({ minimum: 1, maximum: PG_INT_MAX }) });

// Import ------------------------------------------------------------------------------------------

export const ImportQuerySchema = Type.Object({
  entity: Type.Union([Type.Literal('buildings'), Type.Literal('households'), Type.Literal('residents'), Type.Literal('organisations'), Type.Literal('staff')]),
  mode: Type.Optional(Type.Union([Type.Literal('all-or-nothing'), Type.Literal('skip-bad-rows')], { default: 'all-or-nothing' })),
  format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('geojson'), Type.Literal('ndjson')], { description: 'default from Content-Type' })),
  community: Type.Optional(Code12),
  makeValid: Type.Optional(Type.Boolean()),
  effectiveDate: Type.Optional(IsoDate),
});
export const RowErrorSchema = Type.Object({ line: Type.Integer(), field: Type.String(), reason: Type.String() });
export const ImportReportSchema = Type.Object({
  entity: Type.String(),
  format: Type.String(),
  mode: Type.String(),
  rows: Type.Integer(),
  inserted: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  rejected: Type.Integer(),
  committed: Type.Boolean(),
  durationMs: Type.Number(),
  errors: Type.Array(RowErrorSchema, { description: 'line (CSV/NDJSON line, GeoJSON feature position), field, reason; the first 1,000' }),
  errorsTruncated: Type.Boolean(),
});
