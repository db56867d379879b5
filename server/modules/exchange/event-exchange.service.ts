/**
 * Events through the exchange formats.
 *
 * Export: the events a listing filter selects (narrowed to the caller's scope), with description,
 * address and the reporter — masked by default; `reporter=full` needs registry:unmask and a purpose;
 * `reporter=none` leaves the columns out. Every export is written to the audit log (rows, filter,
 * reporter mode, purpose), since descriptions and reporters are personal data.
 *
 * Import means REPORTING the file's events, one by one, through the intake every event takes
 * (reportEvent): routed to the grid in force now, deadlines from now, state `reported`, source
 * `import`. It does not restore workflow history (state, transitions, ids, times other than
 * occurredAt): that would bypass the workflow. Each feature's Idempotency-Key is `import:<id>` (the
 * file's `id` column, e.g. from an export) or `import:<hash of the feature>`, so importing the same
 * file again — or retrying one that failed half-way — creates nothing twice. Every feature is checked
 * before the first is reported: a file with a bad feature creates nothing (422, all problems listed).
 * Reporter columns are taken only when they are not masked (contain no `*`).
 */
import { createHash } from 'node:crypto';
import { Value } from 'typebox/value';
import type { Principal } from '../../auth/principal';
import { CreateEventBodySchema, EVENT_STATES, type CreateEventBody } from '../../contracts/events';
import type { EventExportQuery, EventImportQuery, EventImportReport } from '../../contracts/exchange';
import { AppError, type Where } from '../../http/errors';
import type { AuditActor } from '../audit/audit.service';
import { writeAudit } from '../audit/audit.service';
import type { EventFilter } from '../events/event.repository';
import { getTaxonomy, parseEventBbox, reportEvent, type EventContext } from '../events/event.service';
import { requirePermission } from '../registry/registry-access';
import { parseFormat, readUpload, textFieldNames, whereInFile, writeLayer, type ExchangeFeature, type ExchangeFile } from './exchange';
import { listEventsForExport } from './exchange.repository';

export const MAX_EVENT_EXPORT = 100_000;
/** Each imported event is its own intake (one durable commit); larger files go in several requests. */
export const MAX_EVENT_IMPORT = 5_000;

const EVENT_FIELDS = [
  { name: 'id', type: 'integer' },
  { name: 'category', type: 'text' },
  { name: 'categoryName', type: 'text' },
  { name: 'state', type: 'text' },
  { name: 'channel', type: 'text' },
  { name: 'source', type: 'text' },
  { name: 'description', type: 'text' },
  { name: 'address', type: 'text' },
  { name: 'occurredAt', type: 'text' },
  { name: 'reportedAt', type: 'text' },
  { name: 'dueAt', type: 'text' },
  { name: 'closedAt', type: 'text' },
  { name: 'overdue', type: 'boolean' },
  { name: 'gridCode', type: 'text' },
  { name: 'communityCode', type: 'text' },
] as const;
const REPORTER_FIELDS = [
  { name: 'reporterName', type: 'text' },
  { name: 'reporterPhone', type: 'text' },
] as const;

const TEXT_FIELDS = textFieldNames([...EVENT_FIELDS, ...REPORTER_FIELDS]);

export async function exportEvents(
  ctx: EventContext,
  principal: Principal,
  query: EventExportQuery,
  actor: AuditActor,
): Promise<ExchangeFile> {
  requirePermission(principal, 'events:read');
  const format = parseFormat(query.format);
  const reporter = query.reporter ?? 'masked';
  if (reporter === 'full') {
    requirePermission(principal, 'registry:unmask');
    if (!query.purpose?.trim()) throw new AppError('VALIDATION_FAILED', 400, 'reporter=full needs a purpose (it is audited).', { in: 'querystring', field: 'purpose' });
  }
  const states = query.state?.split(',');
  const bad = states?.find((s) => !(EVENT_STATES as readonly string[]).includes(s));
  if (bad !== undefined) throw new AppError('VALIDATION_FAILED', 400, `Unknown state "${bad}".`, { in: 'querystring', field: 'state', value: bad });
  const filter: EventFilter = {
    scopePrefixes: principal.scope.all ? null : principal.scope.prefixes,
    limit: MAX_EVENT_EXPORT + 1,
    ...(query.grid ? { grid: query.grid } : {}),
    ...(query.community ? { community: query.community } : {}),
    ...(query.street ? { street: query.street } : {}),
    ...(states ? { states } : {}),
    ...(query.category ? { category: query.category } : {}),
    ...(query.channel ? { channel: query.channel } : {}),
    ...(query.from ? { from: new Date(query.from) } : {}),
    ...(query.to ? { to: new Date(query.to) } : {}),
    ...(query.bbox ? { bbox: parseEventBbox(query.bbox) } : {}),
  };
  const rows = await listEventsForExport(ctx.db, filter, reporter === 'full');
  if (rows.length > MAX_EVENT_EXPORT) {
    throw new AppError('VALIDATION_FAILED', 400, `More than ${MAX_EVENT_EXPORT} events match; narrow the export (from/to, grid, community, …).`, { in: 'querystring', max: MAX_EVENT_EXPORT });
  }
  const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
  const features: ExchangeFeature[] = rows.map((r) => {
    const contact =
      reporter === 'none'
        ? {}
        : reporter === 'full'
          ? { reporterName: r.reporterNameEnc ? ctx.cipher.decrypt(r.reporterNameEnc) : null, reporterPhone: r.reporterPhoneEnc ? ctx.cipher.decrypt(r.reporterPhoneEnc) : null }
          : { reporterName: r.reporterMasked?.name ?? null, reporterPhone: r.reporterMasked?.phone ?? null };
    return {
      geometry: r.geometry,
      properties: {
        id: r.id, category: r.category, categoryName: r.categoryName, state: r.state, channel: r.channel, source: r.source,
        description: r.description, address: r.address, occurredAt: iso(r.occurredAt), reportedAt: iso(r.reportedAt), dueAt: iso(r.dueAt),
        closedAt: iso(r.closedAt), overdue: r.overdue, gridCode: r.gridCode, communityCode: r.communityCode, ...contact,
      },
    };
  });
  // The file leaves only if its audit entry committed.
  await writeAudit(ctx.db, {
    actor,
    action: 'event.export',
    target: { type: 'events', id: query.grid ?? query.community ?? query.street ?? 'query' },
    details: { rows: rows.length, format, crs: query.crs ?? 'wgs84', reporter, ...(reporter === 'full' ? { purpose: query.purpose?.trim() } : {}), query },
  });
  const fields = reporter === 'none' ? EVENT_FIELDS : [...EVENT_FIELDS, ...REPORTER_FIELDS];
  return writeLayer(format, { name: 'events', fields, features }, { crs: query.crs, csvGeometry: query.geometry });
}

interface FeatureProblem {
  featureIndex: number;
  code: string;
  message: string;
  details?: unknown;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? (v.trim() === '' ? undefined : v) : typeof v === 'number' ? String(v) : undefined);
const unmasked = (v: unknown): string | undefined => {
  const t = text(v);
  return t !== undefined && !t.includes('*') ? t.trim() : undefined;
};

/** A file feature as an intake body, or what is wrong with it. */
function toIntakeBody(f: ExchangeFeature, index: number, categories: ReadonlySet<string>, now: Date): CreateEventBody | FeatureProblem {
  const problem = (code: string, message: string, details?: unknown): FeatureProblem => ({ featureIndex: index, code, message, ...(details === undefined ? {} : { details }) });
  if (!f.geometry) return problem('GEOMETRY_MISSING', 'The feature has no geometry (an event is a Point).');
  if (f.geometry.type !== 'Point') return problem('GEOMETRY_TYPE', `An event is a Point, not a ${f.geometry.type}.`, { type: f.geometry.type });
  const p = f.properties;
  const name = unmasked(p.reporterName);
  const phone = unmasked(p.reporterPhone);
  const occurredAt = text(p.occurredAt);
  const address = text(p.address);
  const body = {
    location: { type: 'Point' as const, coordinates: [f.geometry.coordinates[0] ?? NaN, f.geometry.coordinates[1] ?? NaN] as [number, number] },
    category: text(p.category) ?? '',
    description: text(p.description) ?? '',
    channel: text(p.channel) ?? '',
    ...(occurredAt ? { occurredAt } : {}),
    ...(address ? { address } : {}),
    ...(name || phone ? { reporter: { ...(name ? { name } : {}), ...(phone ? { phone } : {}) } } : {}),
  };
  if (!Value.Check(CreateEventBodySchema, body)) {
    const first = [...Value.Errors(CreateEventBodySchema, body)].slice(0, 5).map((e) => ({ path: (e as { instancePath?: string }).instancePath ?? '', message: e.message }));
    return problem('VALIDATION_FAILED', `Not a valid event: ${first.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}.`, { errors: first });
  }
  const checked = body as CreateEventBody;
  if (!categories.has(checked.category)) return problem('VALIDATION_FAILED', `Unknown event sub-type "${checked.category}".`, { field: 'category', value: checked.category });
  if (checked.occurredAt && new Date(checked.occurredAt).getTime() > now.getTime() + 5 * 60_000) return problem('VALIDATION_FAILED', 'occurredAt lies in the future.', { field: 'occurredAt' });
  return checked;
}

/** The Idempotency-Key of a feature: its `id` column when it has one, else a hash of its content. */
function importKey(f: ExchangeFeature): string {
  const id = text(f.properties.id);
  if (id !== undefined && id.length <= 100) return `import:${id}`;
  return `import:sha256:${createHash('sha256').update(JSON.stringify([f.geometry, f.properties])).digest('hex')}`;
}

export async function importEventsFile(
  ctx: EventContext,
  principal: Principal,
  file: { bytes: Uint8Array; contentType?: string },
  query: EventImportQuery,
  opts: { principalKey: string; actor: AuditActor },
): Promise<EventImportReport> {
  requirePermission(principal, 'events:write');
  const read = await readUpload(file, query, { textFields: TEXT_FIELDS, limits: { maxFeatures: MAX_EVENT_IMPORT } });
  const taxonomy = await getTaxonomy(ctx.db);
  const subTypes = new Set(taxonomy.categories.filter((c) => c.parentCode !== null).map((c) => c.code));
  const now = ctx.now?.() ?? new Date();
  const bodies: Array<{ index: number; body: CreateEventBody; key: string }> = [];
  const problems: FeatureProblem[] = [];
  read.features.forEach((f, i) => {
    const r = toIntakeBody(f, i, subTypes, now);
    if ('featureIndex' in r) problems.push(r);
    else bodies.push({ index: i, body: r, key: importKey(f) });
  });
  if (problems.length > 0) {
    throw new AppError('IMPORT_FAILED', 422, `${problems.length} feature(s) are not valid events; nothing was reported.`, { in: 'body', errors: problems.slice(0, 100) });
  }
  const report: EventImportReport = { features: read.features.length, created: 0, replayed: 0, failed: 0, events: [], errors: [] };
  for (const { index, body, key } of bodies) {
    try {
      // The key comes from the feature's id (or its content): a refused key names that, not a header,
      // in the file's own terms (a CSV's line and id column, a GeoJSON path; see whereInFile).
      const where: Where = whereInFile(read, index, 'id');
      const r = await reportEvent(ctx, principal, body, { source: 'import', principalKey: opts.principalKey, idempotency: { key, where }, actor: opts.actor });
      report.events.push({ featureIndex: index, id: r.event.id, replayed: r.replayed });
      if (r.replayed) report.replayed += 1;
      else report.created += 1;
    } catch (err) {
      // e.g. the same id imported before with other content (409): reported, the rest go on.
      if (!(err instanceof AppError)) throw err;
      report.failed += 1;
      report.errors.push({ featureIndex: index, code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) });
    }
  }
  return report;
}
