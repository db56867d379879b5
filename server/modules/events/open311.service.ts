/**
 * Open311 GeoReport v2 ↔ events. States map to open/closed (closed = closed or rejected), with
 * status_notes saying where the event is in our workflow.
 */
import type { Principal } from '../../auth/principal';
import type { CreateEventBody, Event, EventState } from '../../contracts/events';
import type { Open311CreateBody, Open311Request, Open311RequestsQuery, Open311Service } from '../../contracts/open311';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import type { AuditActor } from '../audit/audit.service';
import { findActiveTaxonomyVersion, findTaxonomy, listEvents } from './event.repository';
import { reportEvent, type EventContext, type IntakeOptions } from './event.service';

export async function listOpen311Services(db: Database): Promise<Open311Service[]> {
  const version = await findActiveTaxonomyVersion(db);
  const taxonomy = version === undefined ? undefined : await findTaxonomy(db, version);
  if (!taxonomy) return [];
  const names = new Map(taxonomy.categories.map((c) => [c.code, c.name]));
  return taxonomy.categories
    .filter((c) => c.parentCode !== null)
    .map((c) => {
      const group = names.get(c.parentCode ?? '') ?? '';
      return { service_code: c.code, service_name: c.name, description: `${group} / ${c.name}${c.urgent ? '（紧急）' : ''}`, metadata: false, type: 'realtime' as const, keywords: c.parentCode ?? '', group };
    });
}

const NOTES: Record<EventState, string> = {
  reported: '已登记，待立案 (reported, awaiting acceptance)',
  accepted: '已立案，待派遣 (accepted, awaiting dispatch)',
  rejected: '不予立案 (not accepted)',
  dispatched: '已派遣 (dispatched)',
  in_progress: '处置中 (in progress)',
  resolved: '已处置，待核查 (resolved, awaiting verification)',
  verified: '已核查，待结案 (verified, awaiting closure)',
  closed: '已结案 (closed)',
};

export function toOpen311Request(e: Event): Open311Request {
  const closed = e.state === 'closed' || e.state === 'rejected';
  const detail = e.state === 'rejected' ? e.rejectionReason : e.state === 'closed' || e.state === 'verified' || e.state === 'resolved' ? e.result : null;
  const grid = e.routing.gridCode ? `网格 ${e.routing.gridCode}${e.routing.gridName ? ` ${e.routing.gridName}` : ''}` : e.routing.communityCode ? `社区 ${e.routing.communityCode}` : null;
  return {
    service_request_id: String(e.id),
    status: closed ? 'closed' : 'open',
    status_notes: detail ? `${NOTES[e.state]}: ${detail}` : NOTES[e.state],
    service_name: e.category.name,
    service_code: e.category.code,
    description: e.description,
    agency_responsible: grid,
    service_notice: null,
    requested_datetime: e.reportedAt,
    updated_datetime: e.updatedAt,
    expected_datetime: closed ? null : e.dueAt,
    address: e.address,
    address_id: null,
    zipcode: null,
    lat: e.location.coordinates[1],
    long: e.location.coordinates[0],
    media_url: e.attachments[0] ?? null,
  };
}

export async function submitOpen311Request(
  ctx: EventContext,
  principal: Principal,
  body: Open311CreateBody,
  opts: { ip: string; actor: AuditActor; idempotency?: IntakeOptions['idempotency'] },
): Promise<{ statusCode: number; body: Array<{ service_request_id: string; service_notice: string; account_id: string | null }> }> {
  const hasPoint = body.lat !== undefined && body.long !== undefined;
  if (!hasPoint && !body.address_string) {
    throw new AppError('VALIDATION_FAILED', 400, 'GeoReport v2 needs lat and long, or address_string.', { in: 'body', field: 'lat' });
  }
  const name = [body.last_name, body.first_name].filter(Boolean).join('');
  const input: CreateEventBody = {
    category: body.service_code,
    description: body.description?.trim() || '(no description)',
    channel: 'resident',
    ...(hasPoint ? { location: { type: 'Point', coordinates: [Number(body.long), Number(body.lat)] } } : {}),
    ...(body.address_string ? { address: body.address_string } : {}),
    ...(name || body.phone ? { reporter: { ...(name ? { name } : {}), ...(body.phone ? { phone: body.phone } : {}) } } : {}),
    ...(body.media_url ? { attachments: [body.media_url] } : {}),
  };
  const lon = Number(body.long);
  const lat = Number(body.lat);
  if (hasPoint && (!(lon >= -180 && lon <= 180) || !(lat >= -90 && lat <= 90))) {
    throw new AppError('VALIDATION_FAILED', 400, 'lat/long out of range.', { in: 'body', field: 'lat' });
  }
  const result = await reportEvent(ctx, principal, input, {
    source: 'open311',
    // Anonymous clients share keys per address; a signed-in client has its own.
    principalKey: principal.userId !== null ? `user:${principal.userId}` : `open311:${opts.ip}`,
    actor: opts.actor,
    // The GeoReport body, not the event made of it: email, account_id, device_id … are not kept.
    request: body,
    ...(opts.idempotency ? { idempotency: opts.idempotency } : {}),
  });
  const notice = result.event.possibleDuplicates.length > 0 ? `possible duplicate of ${result.event.possibleDuplicates.map((d) => d.id).join(', ')}` : result.event.routing.note;
  return { statusCode: result.statusCode, body: [{ service_request_id: String(result.event.id), service_notice: notice, account_id: body.account_id ?? null }] };
}

export async function listOpen311Requests(db: Database, q: Open311RequestsQuery): Promise<Open311Request[]> {
  const statuses = q.status?.split(',');
  const states = statuses && statuses.length === 1 ? (statuses[0] === 'closed' ? ['closed', 'rejected'] : ['reported', 'accepted', 'dispatched', 'in_progress', 'resolved', 'verified']) : undefined;
  const rows = await listEvents(db, {
    scopePrefixes: null,
    source: 'open311',
    limit: 1000,
    ...(q.service_request_id ? { ids: q.service_request_id.split(',').map(Number) } : {}),
    ...(q.service_code ? { category: q.service_code } : {}),
    ...(q.start_date ? { from: new Date(q.start_date) } : {}),
    ...(q.end_date ? { to: new Date(q.end_date) } : {}),
    ...(states ? { states } : {}),
  });
  return rows.map((r) => toOpen311Request({ ...r, allowedActions: [] }));
}

export async function getOpen311Request(db: Database, id: number): Promise<Open311Request[]> {
  const [row] = await listEvents(db, { scopePrefixes: null, source: 'open311', ids: [id], limit: 1 });
  if (!row) throw new AppError('NOT_FOUND', 404, `No service request ${id}.`, { in: 'params', field: 'id', serviceRequestId: id });
  return [toOpen311Request({ ...row, allowedActions: [] })];
}
