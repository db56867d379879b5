/**
 * Events: idempotent intake with routing and duplicate hints, the workflow (one transition table,
 * row lock per event so concurrent transitions serialise and exactly one wins), listing and timelines.
 */
import { createHash } from 'node:crypto';
import { can, inScope, type Permission, type Principal } from '../../auth/principal';
import { STAGE_OF_STATE, type CreateEventBody, type Event, type EventAction, type EventList, type EventListQuery, type EventState, type StageHours, type Taxonomy, type TaxonomyInput, type Timeline, type TransitionBody, type TransitionResult } from '../../contracts/events';
import type { Database } from '../../db/database';
import { AppError, IF_MATCH, PATH_ID, type Where } from '../../http/errors';
import { describeIfMatch, ifMatchHolds, type IfMatch } from '../../http/preconditions';
import { writeAudit, type AuditActor } from '../audit/audit.service';
import type { DispatchService } from '../dispatch/dispatch.service';
import { maskPhone } from '../registry/resident-id';
import type { RegistryCipher } from '../registry/registry-crypto';
import {
  findActiveTaxonomyVersion,
  findCategory,
  findEvent,
  findGridByCodeAt,
  findIdempotencyKey,
  findStaff,
  findTaxonomy,
  insertReportedEvent,
  insertTaxonomy,
  insertTransition,
  listEvents,
  listStageExtensionHours,
  listTransitions,
  loadWorkingCalendar,
  updateEvent,
  type CategoryRecord,
  type EventPatch,
  type EventRecord,
  type NewEventRow,
} from './event.repository';
import { routeEventLocation, routingForGrid } from './event-routing';
import { groupCommitOf, type GroupCommitOptions } from './intake-group-commit';
import { addDeadlineHours, type WorkingCalendar } from './working-calendar';

export interface EventContext {
  db: Database;
  cipher: RegistryCipher;
  /** Duplicate hint: same category, open, within this distance (m) and time (h) of the occurrence. */
  duplicateRadiusM?: number;
  duplicateHours?: number;
  /** The clock (tests pin it). */
  now?: () => Date;
  /** Routing from memory while its index is live (else PostGIS answers). */
  dispatch?: DispatchService;
  /**
   * Called after an intake committed a new event: announces it to caches (event tiles) without a NOTIFY
   * inside the intake transaction (server/db/data-changes.ts). Other changes are announced by trigger.
   */
  onEventsCreated?: () => void;
  /**
   * Group commit of concurrent intakes (intake-group-commit.ts): on unless false. Never inside a
   * transaction (ctx.db a transaction: each intake is written in it, alone).
   */
  groupCommit?: false | GroupCommitOptions;
}

const OPEN_BEFORE_RESOLVE: EventState[] = ['reported', 'accepted', 'dispatched', 'in_progress'];
const HANDLING: EventState[] = ['accepted', 'dispatched', 'in_progress'];

/**
 * The workflow: which states each action applies to and where it leads (`null` = the state stays).
 * reopen also applies to `resolved` (verification failed: rework without a verify step first).
 */
export const WORKFLOW: Readonly<Record<EventAction, { from: readonly EventState[]; to: EventState | null }>> = {
  accept: { from: ['reported'], to: 'accepted' },
  reject: { from: ['reported'], to: 'rejected' },
  dispatch: { from: ['accepted'], to: 'dispatched' },
  start: { from: ['dispatched'], to: 'in_progress' },
  resolve: { from: ['in_progress'], to: 'resolved' },
  verify: { from: ['resolved'], to: 'verified' },
  close: { from: ['verified'], to: 'closed' },
  reopen: { from: ['resolved', 'verified', 'closed'], to: 'dispatched' },
  transfer: { from: OPEN_BEFORE_RESOLVE, to: 'reported' },
  request_extension: { from: HANDLING, to: null },
  approve_extension: { from: HANDLING, to: null },
  reject_extension: { from: HANDLING, to: null },
  amend: { from: OPEN_BEFORE_RESOLVE, to: null },
};

/**
 * Actions that need a permission beyond the transitions route's `events:write`. 定责: deciding who is
 * responsible and how long they have is supervision (community/street office, command centre), not the
 * grid worker's — refusing a case (不予受理), dispatching it to someone, transferring it to another
 * grid, changing its category (which resets its deadlines), deciding on someone's extension request,
 * closing it and reopening it. Grid workers accept cases of their grids, work them (start, resolve),
 * ask for more time and verify others' results (server/auth/principal.ts ROLE_PERMISSIONS says who
 * holds which permission).
 */
export const ACTION_PERMISSION: Readonly<Partial<Record<EventAction, Permission>>> = {
  reject: 'events:supervise',
  dispatch: 'events:supervise',
  transfer: 'events:supervise',
  amend: 'events:supervise',
  approve_extension: 'events:supervise',
  reject_extension: 'events:supervise',
  close: 'events:supervise',
  reopen: 'events:supervise',
};

/**
 * Actions allowed in a state (extension approval only while one is pending, a request only when none is);
 * with a principal, only those it may take (ACTION_PERMISSION), so nobody is offered a button that 403s.
 */
export function allowedActions(state: EventState, pendingExtension: boolean, principal?: Pick<Principal, 'permissions'>): EventAction[] {
  return (Object.keys(WORKFLOW) as EventAction[]).filter((a) => {
    if (!WORKFLOW[a].from.includes(state)) return false;
    const needs = ACTION_PERMISSION[a];
    if (principal && needs && !can(principal, needs)) return false;
    if (a === 'request_extension') return !pendingExtension;
    if (a === 'approve_extension' || a === 'reject_extension') return pendingExtension;
    return true;
  });
}

function totalHours(h: StageHours): number {
  return h.accept + h.dispatch + h.handle + h.verify;
}

function requireHours(c: CategoryRecord): StageHours {
  if (!c.hours) throw new AppError('VALIDATION_FAILED', 400, `"${c.code}" is a category; report a sub-type of it.`, { in: 'body', field: 'category', value: c.code });
  return c.hours;
}

/** The event as `principal` sees it: allowedActions are those it may take. */
function toEvent(r: EventRecord, principal: Principal): Event {
  const { categoryUrgent: _u, categoryHours: _h, stageStartedAt: _s, ...event } = r;
  return { ...event, allowedActions: allowedActions(r.state, r.pendingExtension !== null, principal) };
}

function eventInScope(principal: Principal, e: Pick<EventRecord, 'routing'>): boolean {
  return principal.scope.all || inScope(principal.scope, e.routing.gridCode) || inScope(principal.scope, e.routing.communityCode);
}

async function requireEvent(db: Database, principal: Principal, id: number, lock?: 'update'): Promise<EventRecord> {
  const e = await findEvent(db, id, lock);
  // Out of scope reads as absent, so ids do not leak.
  if (!e || !eventInScope(principal, e)) throw new AppError('NOT_FOUND', 404, `Event ${id} does not exist.`, { ...PATH_ID, eventId: id });
  return e;
}

/**
 * Per-database caches of what intake reads every time and what rarely changes: a taxonomy version is
 * immutable (a change is a new version), so its categories are cached for good; which version is active
 * and the working calendar are re-read after CACHE_TTL_MS (publishing a taxonomy here clears at once;
 * other server processes follow within the TTL).
 */
const CACHE_TTL_MS = 10_000;
interface IntakeCache {
  activeVersion?: { value: number | undefined; at: number };
  calendar?: { value: WorkingCalendar; at: number };
  categories: Map<string, CategoryRecord | undefined>;
}
const caches = new WeakMap<object, IntakeCache>();

/** Keyed by the root Kysely instance (a transaction is a new object per call). */
function cacheOf(root: Database): IntakeCache {
  let c = caches.get(root);
  if (!c) caches.set(root, (c = { categories: new Map() }));
  return c;
}

export function clearIntakeCache(root: Database): void {
  caches.delete(root);
}

async function cachedActiveVersion(db: Database, root: Database): Promise<number | undefined> {
  const c = cacheOf(root);
  if (c.activeVersion && Date.now() - c.activeVersion.at < CACHE_TTL_MS) return c.activeVersion.value;
  const value = await findActiveTaxonomyVersion(db);
  c.activeVersion = { value, at: Date.now() };
  return value;
}

async function cachedCalendar(db: Database, root: Database): Promise<WorkingCalendar> {
  const c = cacheOf(root);
  if (c.calendar && Date.now() - c.calendar.at < CACHE_TTL_MS) return c.calendar.value;
  const value = await loadWorkingCalendar(db);
  c.calendar = { value, at: Date.now() };
  return value;
}

async function cachedCategory(db: Database, root: Database, version: number, code: string): Promise<CategoryRecord | undefined> {
  const c = cacheOf(root);
  const key = `${version}:${code}`;
  if (c.categories.has(key)) return c.categories.get(key);
  const value = await findCategory(db, version, code);
  if (value) c.categories.set(key, value);
  return value;
}

async function activeCategory(db: Database, code: string, root: Database = db): Promise<CategoryRecord> {
  const version = await cachedActiveVersion(db, root);
  const category = version === undefined ? undefined : await cachedCategory(db, root, version, code);
  if (!category) throw new AppError('VALIDATION_FAILED', 400, `Unknown category "${code}" (GET /api/v1/event-categories lists them).`, { in: 'body', field: 'category', value: code });
  return category;
}

/** 张三 → 张*, 欧阳娜娜 → 欧***: the family name stays, as Chinese apps show it. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  return chars.length <= 1 ? '*' : `${chars[0] ?? ''}${'*'.repeat(chars.length - 1)}`;
}

export interface IntakeOptions {
  /** 'import': an event read from a file (POST /api/v1/events/import), through this same intake. */
  source: 'api' | 'open311' | 'import';
  /**
   * Makes a retry safe: the same key and request answer as the first time. `where` is what carried the
   * key (the Idempotency-Key header, or an imported feature's id), named when the key is refused.
   */
  idempotency?: { key: string; where: Where };
  /**
   * The request as received, when `body` was derived from it (Open311): a retry must match it in full,
   * not only in what the event keeps, or a different request under the same key would pass as a retry.
   */
  request?: unknown;
  /** Who the key belongs to: keys are scoped per caller. */
  principalKey: string;
  actor: AuditActor;
}

export interface IntakeResult {
  statusCode: number;
  event: Event;
  replayed: boolean;
}

/** JSON with every object's keys sorted (recursively), so the same request hashes alike whatever the sender's key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.keys(value).sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What identifies a request under an Idempotency-Key: a hash of its canonical JSON, stored with the key.
 * Keys stored by earlier releases hold the hash of the JSON as received (the sender's key order); keys
 * never expire, so a retry is also compared with that form (`legacy`, computed only when needed).
 */
interface RequestHash {
  hash: string;
  legacy: () => string;
}

function requestHashOf(request: unknown): RequestHash {
  const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
  return { hash: sha256(canonicalJson(request)), legacy: () => sha256(JSON.stringify(request)) };
}

/** A retry's answer: the stored first answer, or 409 while it is unfinished or for a different request. */
async function replayOf(db: Database, principalKey: string, idempotency: { key: string; where: Where }, requestHash: RequestHash): Promise<IntakeResult | undefined> {
  const first = await findIdempotencyKey(db, principalKey, idempotency.key);
  if (!first) return undefined;
  const { where } = idempotency;
  if (first.statusCode === null) throw new AppError('CONFLICT', 409, 'A request with this Idempotency-Key is still being processed; retry shortly.', where);
  if (first.requestHash !== requestHash.hash && first.requestHash !== requestHash.legacy()) {
    throw new AppError('CONFLICT', 409, 'This Idempotency-Key was used for a different request.', { ...where, reason: 'IDEMPOTENCY_KEY_REUSED' });
  }
  return { statusCode: first.statusCode, event: first.response as Event, replayed: true };
}

/**
 * Report an event. Everything that rarely changes comes from memory (taxonomy, calendar; routing from
 * the dispatch index while it is live, else PostGIS), then ONE statement writes the event, its intake
 * transition, its duplicate links and — with an Idempotency-Key — the key with the complete answer:
 * one round trip and one durable commit, shared with the intakes that arrived meanwhile (group commit,
 * intake-group-commit.ts; answered after that commit). A retry, even one racing the first request,
 * waits on the key and returns the stored answer, creating nothing.
 */
export async function reportEvent(ctx: EventContext, principal: Principal, body: CreateEventBody, opts: IntakeOptions): Promise<IntakeResult> {
  if (!body.location && !body.address) {
    throw new AppError('VALIDATION_FAILED', 400, 'Give a location (GeoJSON Point) or an address.', { in: 'body', field: 'location' });
  }
  const requestHash = requestHashOf([opts.source, opts.request ?? body]);
  const idempotency = opts.idempotency;
  const key = idempotency?.key;
  let prepared: PreparedIntake;
  try {
    prepared = await prepareIntake(ctx, principal, body, opts);
  } catch (err) {
    // A retry whose first request was answered gets that answer even if it would not pass today
    // (a category retired since, a pinned clock): the key decides first, as when it was claimed first.
    const replay = err instanceof AppError && idempotency !== undefined ? await replayOf(ctx.db, opts.principalKey, idempotency, requestHash) : undefined;
    if (replay) return replay;
    throw err;
  }
  const { row, event } = prepared;
  const { id: _id, possibleDuplicates: _d, ...response } = event;
  const dup = { radiusM: ctx.duplicateRadiusM ?? 100, hours: ctx.duplicateHours ?? 72 };
  const intakeKey = key === undefined ? undefined : { principalKey: opts.principalKey, key, requestHash: requestHash.hash, statusCode: 201, response };
  const written = ctx.groupCommit === false || ctx.db.isTransaction
    ? await insertReportedEvent(ctx.db, row, dup, intakeKey)
    : await groupCommitOf(ctx.db, ctx.groupCommit).write({ row, dup, ...(intakeKey ? { key: intakeKey } : {}) });
  if (!written) {
    // Only with a key: another request holds it (committed by now, since the claim waited for it).
    const replay = idempotency === undefined ? undefined : await replayOf(ctx.db, opts.principalKey, idempotency, requestHash);
    if (!replay) throw new Error('event insert returned no id');
    return replay;
  }
  ctx.onEventsCreated?.();
  return { statusCode: 201, event: { ...event, id: written.id, possibleDuplicates: written.duplicates }, replayed: false };
}

interface PreparedIntake {
  row: NewEventRow;
  /** The answer, built from what will be written (no re-read; GET returns the same fields); id and duplicates follow the insert. */
  event: Event;
}

async function prepareIntake(ctx: EventContext, principal: Principal, body: CreateEventBody, opts: IntakeOptions): Promise<PreparedIntake> {
  const now = ctx.now?.() ?? new Date();
  const occurredAt = body.occurredAt ? new Date(body.occurredAt) : now;
  if (occurredAt.getTime() > now.getTime() + 5 * 60_000) {
    throw new AppError('VALIDATION_FAILED', 400, 'occurredAt lies in the future.', { in: 'body', field: 'occurredAt', value: body.occurredAt });
  }
  const category = await activeCategory(ctx.db, body.category);
  const hours = requireHours(category);
  const calendar = await cachedCalendar(ctx.db, ctx.db);
  const located = await routeEventLocation(ctx.db, { ...(body.location ? { point: [body.location.coordinates[0], body.location.coordinates[1]] as [number, number] } : {}), ...(body.address ? { address: body.address } : {}) }, now, ctx.dispatch);
  const reporter = body.reporter?.name || body.reporter?.phone ? body.reporter : undefined;
  const reporterMasked = reporter ? { name: reporter.name ? maskName(reporter.name) : null, phone: reporter.phone ? maskPhone(reporter.phone) : null } : null;
  const stageDueAt = addDeadlineHours(now, hours.accept, category.urgent, calendar);
  const dueAt = addDeadlineHours(now, totalHours(hours), category.urgent, calendar);
  const row: NewEventRow = {
    taxonomyVersion: category.taxonomyVersion,
    categoryCode: category.code,
    description: body.description,
    channel: body.channel,
    source: opts.source,
    occurredAt,
    reportedAt: now,
    address: body.address ?? null,
    lon: located.point[0],
    lat: located.point[1],
    reporterNameEnc: reporter?.name ? ctx.cipher.encrypt(reporter.name) : null,
    reporterPhoneEnc: reporter?.phone ? ctx.cipher.encrypt(reporter.phone) : null,
    reporterMasked,
    attachments: body.attachments ?? [],
    routing: located.routing,
    stage: 'accept',
    stageDueAt,
    dueAt,
    createdBy: principal.userId,
    actorName: principal.username ?? opts.source,
    transitionDetails: { channel: body.channel, source: opts.source, routing: located.routing },
  };
  const event: Event = {
    id: 0,
    state: 'reported',
    category: { code: category.code, name: category.name, nameEn: category.nameEn, parentCode: category.parentCode, taxonomyVersion: category.taxonomyVersion },
    description: body.description,
    channel: body.channel,
    source: opts.source,
    occurredAt: occurredAt.toISOString(),
    reportedAt: now.toISOString(),
    address: body.address ?? null,
    // ST_AsGeoJSON(geom, 7) on read: the same 7 decimals here.
    location: { type: 'Point', coordinates: [Number(located.point[0].toFixed(7)), Number(located.point[1].toFixed(7))] },
    reporter: reporterMasked,
    attachments: body.attachments ?? [],
    routing: located.routing,
    stage: 'accept',
    stageDueAt: stageDueAt.toISOString(),
    dueAt: dueAt.toISOString(),
    overdue: false,
    assignee: { staffId: null, department: null },
    handlerUserId: null,
    result: null,
    rejectionReason: null,
    pendingExtension: null,
    extensionHours: 0,
    extensionCount: 0,
    reopenCount: 0,
    transferCount: 0,
    resolvedAt: null,
    closedAt: null,
    updatedAt: now.toISOString(),
    possibleDuplicates: [],
    allowedActions: allowedActions('reported', false, principal),
    version: 1,
  };
  return { row, event };
}

export async function getEvent(ctx: EventContext, principal: Principal, id: number): Promise<Event> {
  return toEvent(await requireEvent(ctx.db, principal, id), principal);
}

export async function getTimeline(ctx: EventContext, principal: Principal, id: number): Promise<Timeline> {
  await requireEvent(ctx.db, principal, id);
  return { eventId: id, transitions: await listTransitions(ctx.db, id) };
}

const absent = (value: unknown): boolean => value === undefined || value === null || value === '';

function need<T>(value: T | undefined, field: string, action: string): T {
  if (absent(value)) throw new AppError('VALIDATION_FAILED', 400, `${action} needs "${field}".`, { in: 'body', field, action });
  return value as T;
}

/**
 * An action that needs at least one of several body fields: `field` names the first (a real field, as
 * where the dispatch lookup misses lon or lat), `anyOf` all of them, any one of which will do.
 */
function needOneOf(body: Partial<Record<string, unknown>>, fields: readonly [string, ...string[]], action: string): void {
  if (fields.some((f) => !absent(body[f]))) return;
  const names = fields.map((f) => `"${f}"`);
  throw new AppError('VALIDATION_FAILED', 400, `${action} needs one of ${names.join(', ')}.`, { in: 'body', field: fields[0], action, anyOf: fields });
}

/**
 * Apply one workflow action. The event row is locked (FOR UPDATE) for the transaction, so of two
 * concurrent transitions the second sees the first's result: exactly one of two conflicting ones wins.
 */
export async function transitionEvent(
  ctx: EventContext,
  principal: Principal,
  id: number,
  body: TransitionBody,
  opts: { ifMatch?: IfMatch; actor: AuditActor },
): Promise<TransitionResult> {
  const needs = ACTION_PERMISSION[body.action];
  if (needs && !can(principal, needs)) {
    // Refused like a route's missing permission (request-auth.ts): audited, 403 naming the permission.
    await writeAudit(ctx.db, { actor: opts.actor, action: 'access.denied', outcome: 'denied', target: { type: 'event', id }, details: { permission: needs, action: body.action } });
    throw new AppError('FORBIDDEN', 403, `"${body.action}" needs the permission ${needs}, which your roles (${principal.roles.join(', ') || 'none'}) do not give.`, {
      permission: needs, in: 'body', field: 'action', action: body.action,
    });
  }
  return ctx.db.transaction().execute(async (trx) => {
    const e = await requireEvent(trx, principal, id, 'update');
    const expected = opts.ifMatch ?? (body.expectedVersion === undefined ? undefined : [body.expectedVersion]);
    if (!ifMatchHolds(expected, e.version)) {
      throw new AppError('VERSION_CONFLICT', 412, `The event changed since you read it (version ${e.version}, you sent ${describeIfMatch(expected ?? '*')}).`, {
        ...(opts.ifMatch === undefined ? { in: 'body', field: 'expectedVersion' } : IF_MATCH),
        currentVersion: e.version,
      });
    }
    const allowed = allowedActions(e.state, e.pendingExtension !== null, principal);
    if (!allowed.includes(body.action)) {
      throw new AppError('CONFLICT', 409, `"${body.action}" is not allowed while the event is ${e.state}.`, {
        in: 'body', field: 'action', reason: 'TRANSITION_NOT_ALLOWED', state: e.state, action: body.action, allowedActions: allowed,
      });
    }
    const now = ctx.now?.() ?? new Date();
    const calendar = await loadWorkingCalendar(trx);
    const hours = e.categoryHours ?? (await activeCategory(trx, e.category.code)).hours;
    if (!hours) throw new Error(`category ${e.category.code} has no deadlines`);
    const deadline = (from: Date, h: number, urgent = e.categoryUrgent): Date => addDeadlineHours(from, h, urgent, calendar);
    const enterStage = (state: EventState): EventPatch => {
      const stage = STAGE_OF_STATE[state];
      return stage ? { stage, stageStartedAt: now, stageDueAt: deadline(now, hours[stage]) } : { stage: null, stageStartedAt: null, stageDueAt: null };
    };
    const to = WORKFLOW[body.action].to ?? e.state;
    // A state of the same stage keeps the stage's clock (STAGE_OF_STATE): start does not restart handling.
    const sameStage = STAGE_OF_STATE[to] !== undefined && STAGE_OF_STATE[to] === STAGE_OF_STATE[e.state] && e.stageStartedAt !== null;
    let patch: EventPatch = to !== e.state ? { state: to, ...(sameStage ? {} : enterStage(to)) } : {};
    const details: Record<string, unknown> = {};
    // An extension is asked for and granted while handling. Leaving handling (resolved, or transferred
    // to another grid that accepts afresh) lapses an unanswered request: it would otherwise ride along
    // to the closed event and become approvable after a reopen, moving the reworked case's deadlines.
    // (A request left on an event outside handling by earlier versions lapses on its next transition.)
    if (e.pendingExtension && !(HANDLING.includes(e.state) && HANDLING.includes(to))) {
      patch.pendingExtension = null;
      details.lapsedExtension = { hours: e.pendingExtension.hours, reason: e.pendingExtension.reason };
    }

    switch (body.action) {
      case 'accept':
      case 'start':
      case 'close':
        if (body.action === 'close') patch.closedAt = now;
        break;
      case 'reject':
        patch.rejectionReason = need(body.reason, 'reason', 'reject');
        break;
      case 'dispatch': {
        needOneOf(body, ['staffId', 'department'], 'dispatch');
        if (body.staffId !== undefined) {
          const staff = await findStaff(trx, body.staffId);
          if (!staff) throw new AppError('VALIDATION_FAILED', 400, `Staff ${body.staffId} does not exist.`, { in: 'body', field: 'staffId' });
          details.staff = staff;
        }
        patch.assigneeStaffId = body.staffId ?? null;
        patch.assigneeDepartment = body.department ?? null;
        break;
      }
      case 'resolve':
        patch.result = need(body.result, 'result', 'resolve');
        patch.handlerUserId = principal.userId;
        patch.resolvedAt = now;
        break;
      case 'verify':
        // 核查 by someone other than the handler: the person who reported the result cannot confirm it.
        if (e.handlerUserId !== null && e.handlerUserId === principal.userId) {
          throw new AppError('FORBIDDEN', 403, 'The handler cannot verify their own result; someone else must.', { reason: 'VERIFIER_IS_HANDLER', handlerUserId: e.handlerUserId });
        }
        break;
      case 'reopen':
        need(body.reason, 'reason', 'reopen');
        patch = { ...patch, reopenCount: e.reopenCount + 1, closedAt: null, resolvedAt: null, handlerUserId: null, result: null };
        details.previousResult = e.result;
        break;
      case 'transfer': {
        const reason = need(body.reason, 'reason', 'transfer');
        const code = need(body.gridCode, 'gridCode', 'transfer');
        if (code === e.routing.gridCode) throw new AppError('VALIDATION_FAILED', 400, 'The event is in that grid already.', { in: 'body', field: 'gridCode' });
        const target = await findGridByCodeAt(trx, code, now);
        if (!target) throw new AppError('GRID_NOT_FOUND', 404, `No grid ${code} is in force now.`, { in: 'body', field: 'gridCode', gridCode: code });
        const routing = await routingForGrid(trx, target, now, 'transfer', `transferred from ${e.routing.gridCode ?? 'no grid'}: ${reason}`);
        patch = { ...patch, state: 'reported', ...enterStage('reported'), routing, transferCount: e.transferCount + 1, assigneeStaffId: null, assigneeDepartment: null };
        details.fromGridCode = e.routing.gridCode;
        details.toGridCode = code;
        details.reason = reason;
        await writeAudit(trx, { actor: opts.actor, action: 'event.transfer', target: { type: 'event', id }, details: { from: e.routing.gridCode, to: code, reason } });
        break;
      }
      case 'request_extension': {
        const h = need(body.hours, 'hours', 'request_extension');
        patch.pendingExtension = { hours: h, reason: need(body.reason, 'reason', 'request_extension'), requestedBy: principal.userId, requestedAt: now.toISOString() };
        details.hours = h;
        break;
      }
      case 'approve_extension': {
        const pending = e.pendingExtension;
        if (!pending) throw new Error('unreachable: approve without a pending extension');
        if (pending.requestedBy !== null && pending.requestedBy === principal.userId) {
          throw new AppError('FORBIDDEN', 403, 'An extension is approved by someone other than who asked for it.', { reason: 'APPROVER_IS_REQUESTER' });
        }
        patch = {
          pendingExtension: null,
          extensionHours: e.extensionHours + pending.hours,
          extensionCount: e.extensionCount + 1,
          dueAt: deadline(new Date(e.dueAt), pending.hours),
          ...(e.stageDueAt ? { stageDueAt: deadline(new Date(e.stageDueAt), pending.hours) } : {}),
        };
        details.hours = pending.hours;
        details.reason = pending.reason;
        await writeAudit(trx, { actor: opts.actor, action: 'event.approve_extension', target: { type: 'event', id }, details: { hours: pending.hours, reason: pending.reason } });
        break;
      }
      case 'reject_extension':
        patch.pendingExtension = null;
        details.hours = e.pendingExtension?.hours ?? null;
        break;
      case 'amend': {
        needOneOf(body, ['category', 'location', 'address'], 'amend');
        if (body.category && body.category !== e.category.code) {
          const category = await activeCategory(trx, body.category);
          const h = requireHours(category);
          // New sub-type, new limits: the closing deadline from intake again (plus granted extensions), and
          // the current stage's from its start again plus the extensions approved in this stage, each
          // added as its approval added it (approve_extension) — an approved extension survives an amend.
          const base = addDeadlineHours(new Date(e.reportedAt), totalHours(h), category.urgent, calendar);
          const stage = STAGE_OF_STATE[e.state];
          let stageDueAt: Date | undefined;
          if (stage && e.stageStartedAt) {
            stageDueAt = addDeadlineHours(new Date(e.stageStartedAt), h[stage], category.urgent, calendar);
            for (const x of await listStageExtensionHours(trx, id)) stageDueAt = addDeadlineHours(stageDueAt, x, category.urgent, calendar);
          }
          patch = {
            ...patch,
            taxonomyVersion: category.taxonomyVersion,
            categoryCode: category.code,
            dueAt: e.extensionHours > 0 ? addDeadlineHours(base, e.extensionHours, category.urgent, calendar) : base,
            ...(stageDueAt ? { stageDueAt } : {}),
          };
          details.category = { from: e.category.code, to: category.code };
        }
        if (body.location || body.address) {
          const located = await routeEventLocation(trx, { ...(body.location ? { point: [body.location.coordinates[0], body.location.coordinates[1]] as [number, number] } : {}), ...(body.address ? { address: body.address } : {}) }, now);
          patch = { ...patch, point: located.point, routing: located.routing, ...(body.address ? { address: body.address } : {}) };
          details.rerouted = { fromGridCode: e.routing.gridCode, toGridCode: located.routing.gridCode };
        }
        break;
      }
    }

    await updateEvent(trx, id, patch, now);
    const transition = await insertTransition(trx, {
      eventId: id, action: body.action, from: e.state, to, at: now, actorUserId: principal.userId, actorName: principal.username,
      note: body.note ?? body.reason ?? null, details,
    });
    // Every transition is also in the tamper-evident audit log (who, when, from, to), same transaction.
    // Transfers and extension approvals already wrote their own, more detailed entry above.
    if (body.action !== 'transfer' && body.action !== 'approve_extension') await writeAudit(trx, { actor: opts.actor, action: `event.${body.action}`, target: { type: 'event', id }, details: { from: e.state, to, note: body.note ?? body.reason ?? null } });
    const updated = await findEvent(trx, id);
    if (!updated) throw new Error('event vanished during a transition');
    return { event: toEvent(updated, principal), transition };
  });
}

export function parseEventBbox(text: string): [number, number, number, number] {
  const parts = text.split(',').map(Number);
  const [w = NaN, s = NaN, e = NaN, n = NaN] = parts;
  if (parts.length !== 4 || !parts.every(Number.isFinite) || w < -180 || e > 180 || s < -90 || n > 90 || w >= e || s >= n) {
    throw new AppError('VALIDATION_FAILED', 400, 'bbox must be minLng,minLat,maxLng,maxLat with min < max.', { in: 'querystring', field: 'bbox', value: text });
  }
  return [w, s, e, n];
}

export async function listEventPage(ctx: EventContext, principal: Principal, q: EventListQuery): Promise<EventList> {
  const limit = q.limit ?? 100;
  const states = q.state?.split(',');
  const bad = states?.find((s) => !WORKFLOW_STATES.has(s));
  if (bad) throw new AppError('VALIDATION_FAILED', 400, `Unknown state "${bad}".`, { in: 'querystring', field: 'state', value: bad });
  const rows = await listEvents(ctx.db, {
    scopePrefixes: principal.scope.all ? null : principal.scope.prefixes,
    limit: limit + 1,
    ...(q.grid ? { grid: q.grid } : {}),
    ...(q.community ? { community: q.community } : {}),
    ...(q.street ? { street: q.street } : {}),
    ...(states ? { states } : {}),
    ...(q.category ? { category: q.category } : {}),
    ...(q.channel ? { channel: q.channel } : {}),
    ...(q.overdue === undefined ? {} : { overdue: q.overdue }),
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(q.to ? { to: new Date(q.to) } : {}),
    ...(q.bbox ? { bbox: parseEventBbox(q.bbox) } : {}),
    ...(q.after === undefined ? {} : { after: q.after }),
  });
  const page = rows.slice(0, limit).map((r) => toEvent(r, principal));
  return { items: page, next: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null };
}

const WORKFLOW_STATES = new Set<string>(['reported', 'accepted', 'rejected', 'dispatched', 'in_progress', 'resolved', 'verified', 'closed']);

export function toEventFeatureCollection(list: EventList): { type: 'FeatureCollection'; features: Array<{ type: 'Feature'; id: number; geometry: Event['location']; properties: Record<string, unknown> }>; next: number | null } {
  return {
    type: 'FeatureCollection',
    features: list.items.map(({ location, ...props }) => ({ type: 'Feature', id: props.id, geometry: location, properties: props })),
    next: list.next,
  };
}

export async function getTaxonomy(db: Database, version?: number): Promise<Taxonomy> {
  const v = version ?? (await findActiveTaxonomyVersion(db));
  const t = v === undefined ? undefined : await findTaxonomy(db, v);
  // Only GET /event-categories?version= names a version that may not exist (the active one always does).
  if (!t) throw new AppError('NOT_FOUND', 404, `No event taxonomy version ${v ?? '(active)'}.`, { in: 'querystring', field: 'version' });
  return t;
}

/**
 * A new taxonomy version (route permission events:configure, admins; and city-wide scope): every
 * sub-type needs its four stage limits.
 */
export async function publishTaxonomy(db: Database, principal: Principal, input: TaxonomyInput, actor: AuditActor): Promise<Taxonomy> {
  if (!principal.scope.all) throw new AppError('FORBIDDEN', 403, 'The event taxonomy is city-wide; only users with city-wide scope change it.');
  const codes = new Set(input.categories.map((c) => c.code));
  for (const [i, c] of input.categories.entries()) {
    const parent = c.parentCode ?? null;
    if (parent !== null && (!codes.has(parent) || !c.code.startsWith(`${parent}.`) || !c.hours)) {
      throw new AppError('VALIDATION_FAILED', 400, `Sub-type ${c.code} needs an existing parent it is named after ("${parent}.…") and hours for every stage.`, { in: 'body', field: `categories/${i}`, code: c.code });
    }
    if (parent === null && c.code.includes('.')) throw new AppError('VALIDATION_FAILED', 400, `Category ${c.code} needs its parentCode.`, { in: 'body', field: `categories/${i}/parentCode`, code: c.code });
  }
  if (codes.size !== input.categories.length) throw new AppError('VALIDATION_FAILED', 400, 'Category codes must be unique.', { in: 'body', field: 'categories' });
  return db.transaction().execute(async (trx) => {
    const version = await insertTaxonomy(trx, input, principal.userId);
    clearIntakeCache(db);
    await writeAudit(trx, { actor, action: 'event.taxonomy_publish', target: { type: 'event_taxonomy', id: version }, details: { categories: input.categories.length } });
    return getTaxonomy(trx, version);
  });
}

export type { WorkingCalendar };
