/**
 * Where an event goes: the grid covering its point at the intake instant (the layout in force then),
 * the staff responsible, and the chain used to decide. One function, so swapping in the dispatch
 * module's lookup (issue #6) when it lands is a single edit here.
 *
 * Chain: covering grid (ST_Covers, first by code on shared edges — grids/gridsCoveringAt's rule, joined
 * with the layout's community in one query) → nearest grid within
 * NEAREST_GRID_M → the community whose boundary covers it → unrouted (kept, visible city-wide).
 * Staff: whom the dispatch lookup names for the place at the instant (its `responder`): grid on duty →
 * grid leader not on leave → community, then street duty officer on duty → the community's, then the
 * street's registered duty officer (属地兜底) → nobody. Without a grid (or in a grid without a code)
 * the chain starts at the community's step, as the lookup's does; outside every community nobody (the
 * lookup reads community boundaries only). An event filed at T goes to whoever dispatch names for that
 * place at T.
 *
 * Two implementations of that one rule: from the dispatch module's memory (published grids, community
 * boundaries and roster, kept in sync by NOTIFY — no round trip), used only while it is `live` and the
 * instant is the present; otherwise PostGIS and the registry's `responderAt` (the same chain in SQL),
 * so correctness never depends on the cache.
 */
import type { DispatchResult } from '../../contracts/dispatch';
import type { EventRouting } from '../../contracts/events';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import type { DispatchService } from '../dispatch/dispatch.service';
import { responderAt, responderAtPlace } from '../registry/roster.service';
import { findAddressPoint, findCommunityAt, findCoveringGridAt, findNearestGridAt, type GridPlace } from './event.repository';

export const NEAREST_GRID_M = 100;

export interface EventLocationInput {
  point?: [number, number];
  address?: string;
}

export interface RoutedLocation {
  point: [number, number];
  routing: EventRouting;
}

/**
 * Whom the dispatch chain names for a place: a coded grid from its code; a grid without a code, or no
 * grid but a community, from the community's steps on (the lookup skips the grid steps there too).
 */
async function staffFor(db: Database, gridCode: string | null, communityCode: string, at: Date): Promise<EventRouting['responsibleStaff']> {
  const r = gridCode ? await responderAt(db, gridCode, at) : await responderAtPlace(db, { gridCode: null, communityCode }, at);
  return r ? { id: r.staffId, name: r.name, role: r.role } : null;
}

const staffOf = (r: DispatchResult): EventRouting['responsibleStaff'] => (r.responder ? { id: r.responder.staffId, name: r.responder.name, role: r.responder.role } : null);

/** Routing to a known grid (transfers). */
export async function routingForGrid(db: Database, place: GridPlace, at: Date, via: string, note: string): Promise<EventRouting> {
  return {
    gridId: place.gridId,
    gridCode: place.gridCode,
    gridName: place.gridName,
    layoutId: place.layoutId,
    communityCode: place.communityCode,
    streetCode: place.communityCode.slice(0, 9),
    responsibleStaff: await staffFor(db, place.gridCode, place.communityCode, at),
    via,
    distanceM: place.distanceM > 0 ? Math.round(place.distanceM * 10) / 10 : null,
    note,
  };
}

/**
 * Memory answers only for the present: a pinned or far-off clock (tests, imports) could fall before a
 * layout's effective date, and only PostGIS keeps the history.
 */
const MEMORY_CLOCK_SKEW_MS = 60_000;

/**
 * The dispatch answer as event routing: the responsible staff is its `responder` (responderAt is the
 * same chain in SQL). Undefined when the answer does not carry what the chain needs (then PostGIS
 * decides).
 */
function routingFromDispatch(r: DispatchResult, addressNote: string): EventRouting | undefined {
  const grid = r.grid;
  if (grid && (r.status === 'in_grid' || r.status === 'nearest_grid')) {
    const communityCode = r.community?.code;
    // responderAt takes the community and street from the grid code; the memory roster from the layout.
    if (!communityCode || (grid.code !== null && grid.code.slice(0, 12) !== communityCode)) return undefined;
    const responsibleStaff = staffOf(r);
    const nearest = r.status === 'nearest_grid';
    return {
      gridId: grid.id,
      gridCode: grid.code,
      gridName: grid.name,
      layoutId: grid.layoutId,
      communityCode,
      streetCode: communityCode.slice(0, 9),
      responsibleStaff,
      via: nearest ? 'nearest_grid' : 'grid',
      distanceM: nearest && grid.distanceM > 0 ? Math.round(grid.distanceM * 10) / 10 : null,
      note: nearest ? `${addressNote}no grid covers the point; the nearest within ${NEAREST_GRID_M} m` : `${addressNote}the grid covering the point in the layout in force`,
    };
  }
  if (r.status === 'community_only') return r.community ? unroutedTo(r.community.code, staffOf(r), addressNote) : undefined;
  if (r.status === 'outside') return unroutedTo(null, null, addressNote);
  return undefined;
}

/** No grid: the community's duty officers answer (responsibleStaff: whom the chain names there), or nobody. */
function unroutedTo(community: string | null, responsibleStaff: EventRouting['responsibleStaff'], addressNote: string): EventRouting {
  return {
    gridId: null,
    gridCode: null,
    gridName: null,
    layoutId: null,
    communityCode: community,
    streetCode: community ? community.slice(0, 9) : null,
    responsibleStaff,
    via: community ? 'community' : 'unrouted',
    distanceM: null,
    note: community ? `${addressNote}outside every grid; the community answers for it` : `${addressNote}outside every community: unrouted, handled city-wide`,
  };
}

/** The memory answer, when dispatch can give one that holds now; else undefined. */
async function routeInMemory(dispatch: DispatchService | undefined, point: [number, number], at: Date, addressNote: string): Promise<EventRouting | undefined> {
  if (!dispatch?.live || dispatch.nearestGridM !== NEAREST_GRID_M || Math.abs(at.getTime() - Date.now()) > MEMORY_CLOCK_SKEW_MS) return undefined;
  const answer = await dispatch.lookupPoint({ lon: point[0], lat: point[1], at: at.toISOString() });
  return answer.source === 'memory' ? routingFromDispatch(answer, addressNote) : undefined;
}

export async function routeEventLocation(db: Database, input: EventLocationInput, at: Date, dispatch?: DispatchService): Promise<RoutedLocation> {
  let point = input.point;
  let addressNote = '';
  if (!point) {
    const found = input.address ? await findAddressPoint(db, input.address) : undefined;
    if (!found) {
      throw new AppError('VALIDATION_FAILED', 400, 'Give a location, or an address that matches a known building or place.', { in: 'body', field: 'address', reason: 'ADDRESS_NOT_FOUND' });
    }
    point = [found.lon, found.lat];
    addressNote = `address matched "${found.label.trim()}"; `;
  }
  const remembered = await routeInMemory(dispatch, point, at, addressNote);
  if (remembered) return { point, routing: remembered };
  const [lon, lat] = point;
  const covering = await findCoveringGridAt(db, lon, lat, at);
  if (covering) {
    return { point, routing: await routingForGrid(db, covering, at, 'grid', `${addressNote}the grid covering the point in the layout in force`) };
  }
  const nearest = await findNearestGridAt(db, lon, lat, at, NEAREST_GRID_M);
  if (nearest) {
    return { point, routing: await routingForGrid(db, nearest, at, 'nearest_grid', `${addressNote}no grid covers the point; the nearest within ${NEAREST_GRID_M} m`) };
  }
  const community = (await findCommunityAt(db, lon, lat)) ?? null;
  return { point, routing: unroutedTo(community, community ? await staffFor(db, null, community, at) : null, addressNote) };
}
