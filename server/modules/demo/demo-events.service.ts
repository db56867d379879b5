/**
 * The demo city's events (scripts/generate/events.ts) written as the events API would have written
 * them: each routed with routeEventLocation at its report time, filed through the intake statement
 * (insertReportedEvents: event, 'report' transition, duplicate links), then every workflow step applied
 * with the patch event.service.ts transitionEvent makes (stage clocks and deadlines from the working
 * calendar, dispatch to the routed staff, result and resolvedAt on resolve, closedAt on close) and its
 * transition row. Demo loading is not a user action, so no audit entries are written for it.
 */
import { STAGE_OF_STATE, type EventState, type StageHours } from '../../contracts/events';
import type { Database } from '../../db/database';
import { generateDemoEvents, type DemoEvent, type DemoEventAction } from '../../../scripts/generate/events';
import type { Building } from '../../../scripts/generate/types';
import {
  findActiveTaxonomyVersion,
  findCategory,
  insertReportedEvents,
  insertTransition,
  loadWorkingCalendar,
  updateEvent,
  type CategoryRecord,
  type EventPatch,
  type NewEventRow,
} from '../events/event.repository';
import { routeEventLocation, type RoutedLocation } from '../events/event-routing';
import { addDeadlineHours, type WorkingCalendar } from '../events/working-calendar';

const TO: Record<DemoEventAction, EventState> = {
  accept: 'accepted',
  reject: 'rejected',
  dispatch: 'dispatched',
  start: 'in_progress',
  resolve: 'resolved',
  verify: 'verified',
  close: 'closed',
};

const DESK = '指挥中心（示范数据）';
const RESULTS = ['已现场处置完毕', '已协调相关部门处理', '已联系物业整改完成', '双方达成调解协议', '已修复并恢复使用'];

/** Writes the demo's events in `db` (the demo's load transaction); returns how many. */
export async function loadDemoEvents(db: Database, options: { seed: number; anchor: Date; buildings: readonly Building[] }): Promise<number> {
  const events = generateDemoEvents(options);
  const version = await findActiveTaxonomyVersion(db);
  if (version === undefined || events.length === 0) return 0;
  const calendar = await loadWorkingCalendar(db);
  const categories = new Map<string, CategoryRecord & { hours: StageHours }>();
  for (const code of new Set(events.map((e) => e.categoryCode))) {
    const c = await findCategory(db, version, code);
    if (c?.hours) categories.set(code, { ...c, hours: c.hours });
  }
  // A taxonomy published since without one of the demo's sub-types: those events are left out.
  const kept = events.filter((e) => categories.has(e.categoryCode));
  const routed: RoutedLocation[] = [];
  for (const e of kept) routed.push(await routeEventLocation(db, { point: [e.location[0] ?? 0, e.location[1] ?? 0] }, e.reportedAt));

  const rows = kept.map((e, i): NewEventRow => {
    const c = categories.get(e.categoryCode);
    const r = routed[i];
    if (!c || !r) throw new Error('unreachable: demo event without category or routing');
    const total = c.hours.accept + c.hours.dispatch + c.hours.handle + c.hours.verify;
    return {
      taxonomyVersion: c.taxonomyVersion,
      categoryCode: c.code,
      description: e.description,
      channel: e.channel,
      source: 'api',
      occurredAt: e.occurredAt,
      reportedAt: e.reportedAt,
      address: e.address,
      lon: r.point[0],
      lat: r.point[1],
      reporterNameEnc: null,
      reporterPhoneEnc: null,
      reporterMasked: null,
      attachments: [],
      routing: r.routing,
      stage: 'accept',
      stageDueAt: addDeadlineHours(e.reportedAt, c.hours.accept, c.urgent, calendar),
      dueAt: addDeadlineHours(e.reportedAt, total, c.urgent, calendar),
      createdBy: null,
      actorName: DESK,
      transitionDetails: { channel: e.channel, source: 'api', routing: r.routing },
    };
  });
  const written = await insertReportedEvents(db, rows.map((row) => ({ row, dup: { radiusM: 100, hours: 72 } })));

  for (const [i, e] of kept.entries()) {
    const id = written[i]?.id;
    const row = rows[i];
    const c = categories.get(e.categoryCode);
    if (id === undefined || !row || !c) throw new Error('demo event insert returned no id');
    await applySteps(db, id, e, row, c, calendar);
  }
  return kept.length;
}

/** transitionEvent's patch and transition for each step, at the step's time. */
async function applySteps(db: Database, id: number, e: DemoEvent, row: NewEventRow, c: CategoryRecord & { hours: StageHours }, calendar: WorkingCalendar): Promise<void> {
  let state: EventState = 'reported';
  let stageStartedAt: Date | null = e.reportedAt;
  const staff = row.routing.responsibleStaff;
  for (const [k, step] of e.steps.entries()) {
    const now = step.at;
    const to = TO[step.action];
    const stage = STAGE_OF_STATE[to];
    const sameStage = stage !== undefined && stage === STAGE_OF_STATE[state] && stageStartedAt !== null;
    let patch: EventPatch = { state: to };
    if (!sameStage) {
      patch = stage
        ? { ...patch, stage, stageStartedAt: now, stageDueAt: addDeadlineHours(now, c.hours[stage], c.urgent, calendar) }
        : { ...patch, stage: null, stageStartedAt: null, stageDueAt: null };
      stageStartedAt = stage ? now : null;
    }
    const details: Record<string, unknown> = {};
    let note: string | null = null;
    switch (step.action) {
      case 'reject':
        note = '经核实不属于网格事项';
        patch.rejectionReason = note;
        break;
      case 'dispatch':
        patch.assigneeStaffId = staff?.id ?? null;
        patch.assigneeDepartment = staff ? null : '城市管理局';
        if (staff) details.staff = staff;
        break;
      case 'resolve':
        patch.result = RESULTS[(id + k) % RESULTS.length] ?? RESULTS[0];
        patch.handlerUserId = null;
        patch.resolvedAt = now;
        break;
      case 'close':
        patch.closedAt = now;
        break;
      default:
        break;
    }
    await updateEvent(db, id, patch, now);
    const actorName = step.action === 'start' || step.action === 'resolve' ? (staff?.name ?? DESK) : DESK;
    await insertTransition(db, { eventId: id, action: step.action, from: state, to, at: now, actorUserId: null, actorName, note, details });
    state = to;
  }
}
