/**
 * Dispatch: who is responsible for a place, and who is on duty there at an instant.
 *
 * "Now" is answered from memory: every server process holds the published grids, community boundaries
 * and the roster (SpatialIndex, RosterIndex), built from PostGIS — the source of truth — and rebuilt
 * when PostgreSQL announces a change. Only what changed is rebuilt: `wangge_data_changed` 'grids'
 * rebuilds the grid layer (geometries, flatbush, coverage raster), `wangge_data_changed` 'divisions'
 * the division layer, and `wangge_roster_changed` (staff, assignments, shifts, exceptions; migration
 * 0010) the roster alone. 'grids' is announced, and its data version bumped, by every statement that
 * changes a layout or grid other than a draft's — a publish too, in its transaction (migration 0028) — and by none that changes only drafts, which
 * planners save on every vertex drag. Before reading the published grids again, a rebuild reads that
 * version (one row): when it is the one the grid layer was read at, nothing the layer holds has changed
 * and the grids are not read (an announcement a read already covered, say; or the reload once a second
 * without a LISTEN connection). After the LISTEN connection comes back, every part is read again whole
 * (announcements may have been missed).
 * A rebuild runs in slices that yield to the event loop (dispatch-steps.ts: no request waits more than
 * about 2 ms behind it) while the current snapshot keeps serving, then swaps in a whole new snapshot
 * with one assignment, so a lookup sees the old or the new state, never a mix. While the LISTEN
 * connection is down (or without one), the memory is trusted for at most 1 s and reloaded on the next
 * lookup.
 *
 * Instants before the live layouts took effect go to PostGIS for the grid (the layouts valid then);
 * the roster is evaluated in memory for any instant (its exceptions and assignment dates are history).
 *
 * Rules:
 * - A point on a shared edge or vertex is covered by several grids (ST_Covers semantics): the lowest
 *   code wins (as gridsCoveringAt orders), `ambiguous: true`, the others in `candidates`.
 * - Outside every grid: the nearest grid within `nearestGridM` (default 100 m; metres in a local
 *   frame on the WGS 84 ellipsoid, see dispatch-geometry.ts; PostGIS geography for past instants).
 *   Else the community whose boundary covers the point answers through its duty officers; outside
 *   every community the answer says so.
 * - Who answers: grid on duty → grid leader → community duty officer on duty → street duty officer on
 *   duty → (属地兜底) the community's, then the street's registered duty officer even off shift.
 */
import type {
  DispatchBatchBody,
  DispatchCrs,
  DispatchResult,
  DispatchStep,
} from '../../contracts/dispatch';
import type { Database } from '../../db/database';
import type { NotificationHub } from '../../db/notifications';
import { bd09ToWgs84, gcj02ToWgs84 } from '../../geo/china-crs';
import { AppError } from '../../http/errors';
import { RosterIndex, shanghaiClock, type DutyCandidate } from './dispatch-roster';
import { DivisionLayer, GridLayer, SpatialIndex, type IndexedDivision, type IndexedGrid } from './dispatch-index';
import { newSliceStats, runSliced, SLICE_MS, type SliceStats } from './dispatch-steps';
import { gridsAtInstant, listDivisions, listPublishedGrids, readGridsVersion, readRoster, searchAddress, type PublishedGrids } from './dispatch.repository';
import { DATA_CHANGED_CHANNEL } from '../../db/data-changes';

export const ROSTER_CHANGED_CHANNEL = 'wangge_roster_changed';

/** How long memory is trusted without a live notification connection (ms). */
const UNSYNCED_TTL_MS = 1_000;

export interface DispatchOptions {
  /** Largest distance (m) at which the nearest grid answers for a point outside every grid. */
  nearestGridM?: number;
  /** Synchronous time (ms) a rebuild may take before it yields to the event loop (dispatch-steps.ts). */
  sliceMs?: number;
  /** First wait (ms) before a failed rebuild is tried again; it doubles up to RETRY_MAX_MS. */
  retryFirstMs?: number;
}

/**
 * A failed rebuild (a pool timeout, a killed backend) is tried again on its own: otherwise a quiet
 * system would keep answering from the old layout until the next announcement, which may be hours away,
 * and event intake would ask PostGIS meanwhile (`live` is false while a part is stale).
 */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** What a refresh reads again and rebuilds: the grid layer, the division layer, the roster. */
export type DispatchPart = 'grids' | 'divisions' | 'roster';
const ALL_PARTS: readonly DispatchPart[] = ['grids', 'divisions', 'roster'];

/**
 * The last rebuild: what it read again, what was to be read but found unchanged by its data version (the
 * grids), what was rebuilt, and how its synchronous work was sliced (dispatch-steps.ts).
 */
export interface RebuildReport extends SliceStats {
  read: DispatchPart[];
  unchanged: DispatchPart[];
  rebuilt: DispatchPart[];
}

interface Snapshot {
  spatial: SpatialIndex;
  /** The 'grids' data version its grid layer was read at (dispatch.repository.ts PublishedGrids). */
  gridsVersion: number;
  roster: RosterIndex;
  /** When the oldest of its parts was read (ms): the trust window without notifications starts here. */
  loadedAt: number;
  /** Who answers, per place, for one steady minute (see `duty`). */
  duty: { minuteMs: number; steady: boolean; byPlace: Map<string, Duty>; byGrid: Array<Duty | undefined> };
}

/** The roster's part of an answer: the same for every point of a grid (or grid-less community) at one instant. */
interface Duty {
  staff: DispatchResult['staff'];
  onDuty: DispatchResult['onDuty'];
  chain: Chain;
}

interface Located {
  status: DispatchResult['status'];
  grid: DispatchResult['grid'];
  gridCommunity: string | null;
  /** The in-memory grid (its position and names), when memory located the point in or near one. */
  indexed?: IndexedGrid | undefined;
  candidates: DispatchResult['candidates'];
  community: IndexedDivision | null;
  source: DispatchResult['source'];
  /** The message of a point inside one grid only, when built once for the grid. */
  insideMessage?: string;
}

export interface PointQuery {
  lon: number;
  lat: number;
  crs?: DispatchCrs | undefined;
  at?: string | undefined;
}

export function toWgs84(lon: number, lat: number, crs: DispatchCrs): [number, number] {
  if (crs === 'gcj02') return gcj02ToWgs84(lon, lat);
  if (crs === 'bd09') return bd09ToWgs84(lon, lat);
  return [lon, lat];
}

export function parseInstant(at: string | undefined, now = Date.now()): number {
  if (at === undefined) return now;
  // Only ISO 8601 date-times (Date.parse also takes loose formats that mean different things).
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(at) ? Date.parse(at) : NaN;
  if (!Number.isFinite(ms)) {
    throw new AppError('VALIDATION_FAILED', 400, `"at" must be an ISO 8601 instant such as 2025-03-01T09:30:00+08:00, not "${at}".`, { in: 'querystring', field: 'at', reason: 'INVALID_INSTANT' });
  }
  return ms;
}

type StaffView = DispatchResult['staff'][number];

interface Chain {
  responder: DispatchResult['responder'];
  fallback: DispatchResult['fallback'];
}

/**
 * The answer lists who is on duty for the grid (up to this many, in dispatch order) and the first on
 * duty for its community and street: who the chain would call, not a street's whole roster.
 */
const ON_DUTY_PER_LEVEL: Readonly<Record<DutyCandidate['level'], number>> = { grid: 5, community: 1, street: 1 };

/** The empty list of every answer that has none: frozen, one instance (its answers' JSON text can be kept, dispatch-serialize.ts). */
const NONE: never[] = Object.freeze([]) as never[];

const OUTSIDE_CHAIN: Chain = {
  responder: null,
  fallback: (['grid_on_duty', 'grid_leader', 'community_duty_officer', 'street_duty_officer', 'community_contact', 'street_contact'] as const).map((step) => ({
    step,
    outcome: 'skipped' as const,
    reason: 'the point lies outside every community and every grid',
  })),
};

function staffOf(s: DutyCandidate['staff'], role: string): StaffView {
  return { staffId: s.id, staffCode: s.code, name: s.name, phone: s.phone, role };
}

/** Staff views of one grid's assignment list, built once per list (the roster memoises lists per date). */
const staffViewCache = new WeakMap<readonly unknown[], StaffView[]>();
function staffViews(assigned: ReadonlyArray<{ staff: DutyCandidate['staff']; role: string }>): StaffView[] {
  let views = staffViewCache.get(assigned);
  if (!views) {
    // Frozen: shared by every answer for the grid that day (and its JSON text is kept beside it, dispatch-serialize.ts).
    views = Object.freeze(assigned.map((a) => Object.freeze(staffOf(a.staff, a.role)))) as StaffView[];
    staffViewCache.set(assigned, views);
  }
  return views;
}

function onDutyViews(candidates: readonly DutyCandidate[]): DispatchResult['onDuty'] {
  const out: DispatchResult['onDuty'] = [];
  let grid = 0;
  let community = 0;
  let street = 0;
  for (const d of candidates) {
    const n = d.level === 'grid' ? ++grid : d.level === 'community' ? ++community : ++street;
    if (n > ON_DUTY_PER_LEVEL[d.level]) continue;
    out.push({ staffId: d.staff.id, staffCode: d.staff.code, name: d.staff.name, phone: d.staff.phone, role: d.role, level: d.level, via: d.via, scopeCode: d.scopeCode });
  }
  return out;
}

/** A duty shared by many answers: nobody may change it. */
function freezeDuty(d: Duty): Duty {
  for (const o of d.onDuty) Object.freeze(o);
  Object.freeze(d.onDuty);
  for (const f of d.chain.fallback) Object.freeze(f);
  Object.freeze(d.chain.fallback);
  if (d.chain.responder) Object.freeze(d.chain.responder);
  Object.freeze(d.chain);
  return Object.freeze(d);
}

function firstAt(onDuty: readonly DutyCandidate[], level: DutyCandidate['level']): DutyCandidate | undefined {
  for (const d of onDuty) if (d.level === level) return d;
  return undefined;
}

function used(fallback: DispatchResult['fallback'], step: DispatchStep, staff: DutyCandidate['staff'], role: string, reason: string): Chain {
  fallback.push({ step, outcome: 'used', reason });
  return { responder: { staffId: staff.id, staffCode: staff.code, name: staff.name, phone: staff.phone, role, step }, fallback };
}

/** "2025-03-03 09:30 (Asia/Shanghai)": local date and minute of a clock reading. */
function localLabel(clock: ReturnType<typeof shanghaiClock>): string {
  const minutes = Math.floor(clock.seconds / 60);
  const hh = Math.floor(minutes / 60);
  const mm = minutes % 60;
  return `${clock.date} ${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm} (Asia/Shanghai)`;
}

/** The last second formatted by isoInstant: 'YYYY-MM-DDTHH:MM:SS.' */
let isoSecond = NaN;
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()`, with the date and time of day formatted once per second (every answer
 * at "now" carries its instant; thousands fall in one second). Years 0–9999 only; others as Date does.
 */
export function isoInstant(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    isoSecond = second;
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

export class DispatchService {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  /** Parts announced as changed and not yet read again. */
  private readonly stale = new Set<DispatchPart>();
  /** The next rebuild reads the grids whole, without asking their data version first (after a reconnect). */
  private readWhole = false;
  private hub: NotificationHub | undefined;
  readonly nearestGridM: number;
  private readonly sliceMs: number;
  /** Called after every rebuild (tests wait on it). */
  onRefresh: (() => void) | undefined;
  /** What the last rebuild did (tests and benchmarks read it). */
  lastRebuild: RebuildReport | undefined;
  /** Called after each rebuild, with what it did (a refresh may rebuild more than once: see `refresh`). */
  onRebuild: ((report: RebuildReport) => void) | undefined;
  /** Why the last refresh failed, until one succeeds. */
  lastError: unknown;
  private readonly retryFirstMs: number;
  private retryMs: number;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    options: DispatchOptions = {},
  ) {
    this.nearestGridM = options.nearestGridM ?? 100;
    this.sliceMs = options.sliceMs ?? SLICE_MS;
    this.retryFirstMs = options.retryFirstMs ?? RETRY_FIRST_MS;
    this.retryMs = this.retryFirstMs;
  }

  /** Follow PostgreSQL's announcements; subscribe before the hub starts. */
  attach(hub: NotificationHub): void {
    this.hub = hub;
    const changed = (parts: readonly DispatchPart[]) => (): void => void this.refresh(parts).catch(() => undefined);
    hub.on(ROSTER_CHANGED_CHANNEL, changed(['roster']));
    const grids = changed(['grids']);
    const divisions = changed(['divisions']);
    hub.on(DATA_CHANGED_CHANNEL, (layer) => {
      if (layer === 'grids') grids();
      else if (layer === 'divisions') divisions();
    });
    // Announcements may have been missed while disconnected: everything is read again, whole.
    hub.onReconnect(() => {
      this.readWhole = true;
      changed(ALL_PARTS)();
    });
  }

  /**
   * Read the given parts again from PostGIS (all by default; all on the first load) and rebuild them,
   * reusing the others. Calls during a rebuild coalesce into one more rebuild after it, so the last
   * announcement is always followed by a read that sees its data.
   */
  refresh(parts: readonly DispatchPart[] = ALL_PARTS): Promise<Snapshot> {
    for (const part of parts) this.stale.add(part);
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        let snap: Snapshot;
        do snap = await this.rebuild();
        while (this.stale.size > 0);
        this.lastError = undefined;
        this.retryMs = this.retryFirstMs;
        this.onRefresh?.();
        return snap;
      } catch (err) {
        this.lastError = err;
        this.retryLater();
        throw err;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** After a failed refresh: read the stale parts again after a wait, doubling up to RETRY_MAX_MS. */
  private retryLater(): void {
    if (this.retry) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.stale.size > 0) void this.refresh([]).catch(() => undefined);
    }, delay);
    // A pending retry does not keep the process alive (shutdown, the end of a test file).
    this.retry.unref();
  }

  /**
   * One rebuild of the stale parts; the new snapshot replaces the current one in one assignment. Parts
   * whose rebuild fails stay stale: the next refresh (or the retry, see `retryLater`) reads them again.
   */
  private async rebuild(): Promise<Snapshot> {
    const prev = this.snapshot;
    const parts = new Set<DispatchPart>(prev ? this.stale : ALL_PARTS);
    const whole = this.readWhole;
    this.stale.clear();
    this.readWhole = false;
    try {
      const snap = await this.build(prev, parts, whole);
      this.snapshot = snap;
      return snap;
    } catch (err) {
      for (const part of parts) this.stale.add(part);
      if (whole) this.readWhole = true;
      throw err;
    }
  }

  /**
   * The published grids read again; undefined when their data version is the one `prev`'s grid layer
   * was read at, so they are the grids it holds (unless `whole`: then they are read regardless).
   */
  private async readGrids(prev: Snapshot | undefined, whole: boolean): Promise<PublishedGrids | undefined> {
    if (prev && !whole && (await readGridsVersion(this.db)) === prev.gridsVersion) return undefined;
    return listPublishedGrids(this.db);
  }

  private async build(prev: Snapshot | undefined, parts: ReadonlySet<DispatchPart>, whole: boolean): Promise<Snapshot> {
    const loadedAt = Date.now();
    const [published, divisionRows, rosterRows] = await Promise.all([
      parts.has('grids') ? this.readGrids(prev, whole) : undefined,
      parts.has('divisions') ? listDivisions(this.db) : undefined,
      parts.has('roster') ? readRoster(this.db) : undefined,
    ]);
    const stats = newSliceStats();
    const rebuilt = new Set<DispatchPart>();
    let spatial = prev?.spatial;
    if (!spatial || published || divisionRows) {
      const grids = published ? await runSliced(GridLayer.build(published.grids), this.sliceMs, stats) : spatial?.gridLayer;
      const divisions = divisionRows ? await runSliced(DivisionLayer.build(divisionRows), this.sliceMs, stats) : spatial?.divisionLayer;
      if (!grids || !divisions) throw new Error('dispatch: a first load reads every part');
      spatial = await runSliced(SpatialIndex.build(grids, divisions), this.sliceMs, stats);
      if (published) rebuilt.add('grids');
      if (divisionRows) rebuilt.add('divisions');
    }
    const roster = rosterRows ? await runSliced(RosterIndex.build(rosterRows), this.sliceMs, stats) : prev?.roster;
    if (!roster) throw new Error('dispatch: a first load reads every part');
    if (rosterRows) rebuilt.add('roster');
    const read = ALL_PARTS.filter((p) => parts.has(p) && (p !== 'grids' || published !== undefined));
    const unchanged = parts.has('grids') && !published ? ['grids' as const] : [];
    this.lastRebuild = { read, unchanged, rebuilt: ALL_PARTS.filter((p) => rebuilt.has(p)), ...stats };
    this.onRebuild?.(this.lastRebuild);
    // Nothing changed (the grids' version stayed): the snapshot (and what it has worked out this minute) stays.
    if (prev && rebuilt.size === 0 && parts.size < ALL_PARTS.length) return prev;
    const gridsVersion = published?.version ?? prev?.gridsVersion;
    if (gridsVersion === undefined) throw new Error('dispatch: a first load reads every part');
    return {
      spatial,
      gridsVersion,
      roster,
      loadedAt: prev && parts.size < ALL_PARTS.length ? Math.min(prev.loadedAt, loadedAt) : loadedAt,
      duty: { minuteMs: NaN, steady: false, byPlace: new Map(), byGrid: [] },
    };
  }

  /**
   * Whether a lookup at "now" is answered from memory that NOTIFY keeps in sync: a snapshot is loaded,
   * the LISTEN connection is up, no rebuild is under way and none failed. Callers that must not route on
   * stale data (event intake) ask PostGIS otherwise.
   */
  get live(): boolean {
    return this.snapshot !== undefined && this.loading === undefined && this.stale.size === 0 && this.hub?.connected === true;
  }

  /** The current snapshot; reloaded first when there is none or it cannot be trusted any more. */
  current(): Snapshot | Promise<Snapshot> {
    const snap = this.snapshot;
    if (snap && (this.hub?.connected || Date.now() - snap.loadedAt < UNSYNCED_TTL_MS)) return snap;
    return this.refresh();
  }

  async lookupPoint(q: PointQuery): Promise<DispatchResult> {
    return this.lookupPointNow(q);
  }

  /**
   * lookupPoint without a promise when memory answers (live snapshot, an instant from the live layouts
   * on): the hotline's hot path. Throws (synchronously) on a bad instant.
   */
  lookupPointNow(q: PointQuery): DispatchResult | Promise<DispatchResult> {
    const atMs = parseInstant(q.at);
    const snap = this.current();
    if (snap instanceof Promise) return snap.then((s) => this.resolve(s, q.lon, q.lat, q.crs ?? 'wgs84', atMs));
    return this.resolve(snap, q.lon, q.lat, q.crs ?? 'wgs84', atMs);
  }

  async lookupBatch(body: DispatchBatchBody): Promise<DispatchResult[]> {
    const atMs = parseInstant(body.at);
    const snap = await this.current();
    const out = new Array<DispatchResult>(body.points.length);
    for (let i = 0; i < body.points.length; i++) {
      const p = body.points[i]!;
      const r = this.resolve(snap, p.lon, p.lat, body.crs ?? 'wgs84', atMs);
      out[i] = r instanceof Promise ? await r : r;
    }
    return out;
  }

  async lookupAddress(address: string, opts: { at?: string | undefined; limit?: number | undefined }) {
    const text = address.trim();
    if (text.length === 0) throw new AppError('VALIDATION_FAILED', 400, 'The address is empty: send some text, e.g. 建设路桐柏路.', { in: 'querystring', field: 'address', reason: 'EMPTY_ADDRESS' });
    const atMs = parseInstant(opts.at);
    const snap = await this.current();
    const matches = await searchAddress(this.db, text, opts.limit ?? 10);
    const candidates = matches.map((m) => {
      const covering = snap.spatial.gridsCovering(m.lon, m.lat);
      const grid = covering[0] ?? null;
      const community = grid ? snap.spatial.divisions.get(grid.communityCode) : snap.spatial.communityAt(m.lon, m.lat);
      return {
        kind: m.kind,
        id: m.id,
        name: m.name,
        address: m.address,
        score: m.score,
        lon: m.lon,
        lat: m.lat,
        grid: grid ? { code: grid.code, name: grid.name } : null,
        community: community ? { code: community.code, name: community.name } : null,
      };
    });
    const top = candidates[0];
    const best = top ? await this.resolve(snap, top.lon, top.lat, 'wgs84', atMs) : null;
    return { address: text, candidates, best };
  }

  /** Synchronous when the instant is answered from memory (the hot path allocates no promise). */
  private resolve(snap: Snapshot, lonIn: number, latIn: number, crs: DispatchCrs, atMs: number): DispatchResult | Promise<DispatchResult> {
    const [lon, lat] = toWgs84(lonIn, latIn, crs);
    if (atMs >= snap.spatial.validFromMs) return this.answer(snap, this.locateInMemory(snap, lon, lat), lon, lat, crs, atMs);
    return this.locateInPostgis(snap, lon, lat, atMs).then((located) => this.answer(snap, located, lon, lat, crs, atMs));
  }

  private locateInMemory(snap: Snapshot, lon: number, lat: number): Located {
    const covering = snap.spatial.gridsCovering(lon, lat);
    const first = covering[0];
    if (first) {
      return {
        status: 'in_grid',
        grid: first.coversView,
        gridCommunity: first.communityCode,
        indexed: first,
        candidates: covering.length > 1 ? covering.slice(1).map((g) => ({ id: g.id, code: g.code, name: g.name, layoutId: g.layoutId })) : NONE,
        community: null,
        source: 'memory',
        insideMessage: first.insideMessage,
      };
    }
    const near = snap.spatial.nearestGrid(lon, lat, this.nearestGridM);
    if (near) {
      const g = near.grid;
      return {
        status: 'nearest_grid',
        grid: { id: g.id, code: g.code, name: g.name, kind: g.kind, layoutId: g.layoutId, layoutEffectiveFrom: g.effectiveFromIso, match: 'nearest', distanceM: Math.round(near.distanceM * 100) / 100 },
        gridCommunity: g.communityCode,
        indexed: g,
        candidates: NONE,
        community: null,
        source: 'memory',
      };
    }
    const community = snap.spatial.communityAt(lon, lat);
    return { status: community ? 'community_only' : 'outside', grid: null, gridCommunity: null, candidates: NONE, community, source: 'memory' };
  }

  private async locateInPostgis(snap: Snapshot, lon: number, lat: number, atMs: number): Promise<Located> {
    const rows = await gridsAtInstant(this.db, lon, lat, new Date(atMs), this.nearestGridM);
    const first = rows[0];
    if (first) {
      const covers = first.distanceM === 0;
      return {
        status: covers ? 'in_grid' : 'nearest_grid',
        grid: {
          id: first.id,
          code: first.code,
          name: first.name,
          kind: first.kind,
          layoutId: first.layoutId,
          layoutEffectiveFrom: first.effectiveFrom.toISOString(),
          match: covers ? 'covers' : 'nearest',
          distanceM: Math.round(first.distanceM * 100) / 100,
        },
        gridCommunity: first.communityCode,
        candidates: covers ? rows.slice(1).map((g) => ({ id: g.id, code: g.code, name: g.name, layoutId: g.layoutId })) : [],
        community: null,
        source: 'postgis',
      };
    }
    const community = snap.spatial.communityAt(lon, lat);
    return { status: community ? 'community_only' : 'outside', grid: null, gridCommunity: null, candidates: [], community, source: 'postgis' };
  }

  private answer(snap: Snapshot, located: Located, lon: number, lat: number, crs: DispatchCrs, atMs: number): DispatchResult {
    const { spatial } = snap;
    const communityCode = located.gridCommunity ?? located.community?.code ?? null;
    const names = located.indexed ? spatial.namesAt(located.indexed.position) : spatial.namesOf(communityCode);
    const grid = located.grid;
    const { staff, onDuty, chain } = this.dutyAt(snap, grid?.code ?? null, communityCode, atMs, located.indexed?.position);

    let message: string;
    if (located.status === 'in_grid' && grid) {
      message = located.candidates.length > 0
        ? `On the shared boundary of grids ${[grid.code, ...located.candidates.map((c) => c.code)].join(', ')}: ${grid.code} (lowest code) is responsible.`
        : (located.insideMessage ?? `Inside grid ${grid.code} ${grid.name}.`);
    } else if (located.status === 'nearest_grid' && grid) {
      message = `Outside every grid; the nearest grid ${grid.code} ${grid.name} is ${grid.distanceM} m away (limit ${this.nearestGridM} m).`;
    } else if (located.status === 'community_only') {
      message = `Outside every grid (none within ${this.nearestGridM} m) but inside community ${names.community?.name ?? communityCode}: its duty officers are responsible.`;
    } else {
      message = `Outside every community and no grid within ${this.nearestGridM} m: this place is not in the service area.`;
    }
    if (communityCode && !chain.responder) message += ' Nobody is registered to answer here: add duty officers for the community or street.';

    return {
      position: { lon, lat, crs },
      at: isoInstant(atMs),
      status: located.status,
      message,
      district: names.district,
      street: names.street,
      community: names.community,
      grid,
      ambiguous: located.candidates.length > 0,
      candidates: located.candidates,
      staff,
      onDuty,
      responder: chain.responder,
      fallback: chain.fallback,
      source: located.source,
    };
  }

  /**
   * The roster's part of the answer for a place at an instant. Within a steady minute (no shift, leave,
   * holiday or extra duty starts or ends inside it: RosterIndex.steadyMinute) it is the same at every
   * instant of the minute — the chain's reasons name the minute, not the second — so it is computed once
   * per grid (or grid-less community) and minute, frozen and shared by every answer (whose JSON text is
   * then written once too, dispatch-serialize.ts). Other minutes compute it per request. A grid of the
   * in-memory index is looked up by its position (`gridPosition`), anything else by code.
   */
  private dutyAt(snap: Snapshot, gridCode: string | null, communityCode: string | null, atMs: number, gridPosition?: number): Duty {
    const minuteMs = Math.floor(atMs / 60_000) * 60_000;
    const memo = snap.duty;
    if (memo.minuteMs !== minuteMs) {
      memo.minuteMs = minuteMs;
      memo.steady = snap.roster.steadyMinute(minuteMs);
      memo.byPlace = new Map();
      memo.byGrid = new Array<Duty | undefined>(snap.spatial.grids.length);
    }
    if (!memo.steady) return this.computeDuty(snap.roster, gridCode, communityCode, atMs);
    if (gridPosition !== undefined) {
      let duty = memo.byGrid[gridPosition];
      if (!duty) memo.byGrid[gridPosition] = duty = freezeDuty(this.computeDuty(snap.roster, gridCode, communityCode, atMs));
      return duty;
    }
    const key = gridCode ?? communityCode ?? '';
    let duty = memo.byPlace.get(key);
    if (!duty) {
      duty = freezeDuty(this.computeDuty(snap.roster, gridCode, communityCode, atMs));
      memo.byPlace.set(key, duty);
    }
    return duty;
  }

  private computeDuty(roster: RosterIndex, gridCode: string | null, communityCode: string | null, atMs: number): Duty {
    const clock = shanghaiClock(atMs);
    const staff = gridCode ? staffViews(roster.assignedStaff(gridCode, clock.date)) : NONE;
    const candidates = communityCode ? roster.onDuty(gridCode, communityCode, atMs, clock) : [];
    const chain = communityCode ? this.walkFallback(roster, gridCode, communityCode, candidates, clock, atMs) : OUTSIDE_CHAIN;
    return { staff, onDuty: onDutyViews(candidates), chain };
  }

  /**
   * Who answers: the first step of the chain that finds someone. Steps after it are not evaluated (nor
   * their reasons written): the answer lists the chain as walked, up to the step used.
   */
  private walkFallback(roster: RosterIndex, gridCode: string | null, communityCode: string, onDuty: readonly DutyCandidate[], clock: ReturnType<typeof shanghaiClock>, atMs: number): Chain {
    const fallback: DispatchResult['fallback'] = [];
    const streetCode = communityCode.slice(0, 9);
    let local: string | undefined;
    const localTime = (): string => (local ??= localLabel(clock));
    if (gridCode !== null) {
      const g = firstAt(onDuty, 'grid');
      if (g) return used(fallback, 'grid_on_duty', g.staff, g.role, `on duty in grid ${gridCode} at ${localTime()}`);
      fallback.push({ step: 'grid_on_duty', outcome: 'none', reason: `nobody is on duty in grid ${gridCode} at ${localTime()} (no shift, a holiday or leave)` });
      const leader = roster.gridLeader(gridCode, clock.date, atMs);
      if (leader) return used(fallback, 'grid_leader', leader.staff, leader.role, 'nobody on duty in the grid: its grid leader answers');
      fallback.push({ step: 'grid_leader', outcome: 'none', reason: `grid ${gridCode} has no grid leader available (none assigned, or on leave)` });
    } else {
      fallback.push({ step: 'grid_on_duty', outcome: 'skipped', reason: `no grid covers the point or lies within ${this.nearestGridM} m` });
      fallback.push({ step: 'grid_leader', outcome: 'skipped', reason: 'no grid' });
    }
    const c = firstAt(onDuty, 'community');
    if (c) return used(fallback, 'community_duty_officer', c.staff, c.role, `community ${communityCode}'s duty officer on duty at ${localTime()}`);
    fallback.push({ step: 'community_duty_officer', outcome: 'none', reason: `no duty officer of community ${communityCode} on duty at ${localTime()}` });
    const s = firstAt(onDuty, 'street');
    if (s) return used(fallback, 'street_duty_officer', s.staff, s.role, `street ${streetCode}'s duty officer on duty at ${localTime()}`);
    fallback.push({ step: 'street_duty_officer', outcome: 'none', reason: `no duty officer of street ${streetCode} on duty at ${localTime()}` });
    const cc = roster.firstDutyOfficer(communityCode, atMs);
    if (cc) return used(fallback, 'community_contact', cc, cc.role, `nobody on duty: community ${communityCode}'s registered duty officer (属地兜底), off shift`);
    fallback.push({ step: 'community_contact', outcome: 'none', reason: `community ${communityCode} has no registered duty officer available` });
    const sc = roster.firstDutyOfficer(streetCode, atMs);
    if (sc) return used(fallback, 'street_contact', sc, sc.role, `nobody on duty: street ${streetCode}'s registered duty officer (属地兜底), off shift`);
    fallback.push({ step: 'street_contact', outcome: 'none', reason: `street ${streetCode} has no registered duty officer available` });
    return { responder: null, fallback };
  }
}
