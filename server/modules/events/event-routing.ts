/**
 * Where an event goes: the grid covering its point at the intake instant (the layout in force then),
 * the staff responsible, and the chain used to decide. One function, so swapping in the dispatch
 * module's lookup (issue #6) when it lands is a single edit here.
 *
 * Chain: covering grid (ST_Covers, first by code on shared edges — grids/gridsCoveringAt's rule, joined
 * with the layout's community in one query) → nearest grid within
 * NEAREST_GRID_M → the community whose boundary covers it → unrouted (kept, visible city-wide).
 * Staff: on duty now in the grid (registry roster, with its community/street fallback) → the grid's
 * assigned leader/worker → nobody.
 */
import type { EventRouting } from '../../contracts/events';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { onDutyAt } from '../registry/roster.service';
import { findAddressPoint, findAssignedStaff, findCommunityAt, findCoveringGridAt, findNearestGridAt, type GridPlace } from './event.repository';

export const NEAREST_GRID_M = 100;

export interface EventLocationInput {
  point?: [number, number];
  address?: string;
}

export interface RoutedLocation {
  point: [number, number];
  routing: EventRouting;
}

const localDate = (at: Date): string => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);

async function staffFor(db: Database, gridCode: string | null, at: Date): Promise<EventRouting['responsibleStaff']> {
  if (!gridCode) return null;
  const duty = await onDutyAt(db, gridCode, at);
  if (duty) return { id: duty.staffId, name: duty.name, role: duty.role };
  return (await findAssignedStaff(db, gridCode, localDate(at))) ?? null;
}

/** Routing to a known grid (transfers). */
export async function routingForGrid(db: Database, place: GridPlace, at: Date, via: string, note: string): Promise<EventRouting> {
  return {
    gridId: place.gridId,
    gridCode: place.gridCode,
    gridName: place.gridName,
    layoutId: place.layoutId,
    communityCode: place.communityCode,
    streetCode: place.communityCode.slice(0, 9),
    responsibleStaff: await staffFor(db, place.gridCode, at),
    via,
    distanceM: place.distanceM > 0 ? Math.round(place.distanceM * 10) / 10 : null,
    note,
  };
}

export async function routeEventLocation(db: Database, input: EventLocationInput, at: Date): Promise<RoutedLocation> {
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
  const [lon, lat] = point;
  const covering = await findCoveringGridAt(db, lon, lat, at);
  if (covering) {
    return { point, routing: await routingForGrid(db, covering, at, 'grid', `${addressNote}the grid covering the point in the layout in force`) };
  }
  const nearest = await findNearestGridAt(db, lon, lat, at, NEAREST_GRID_M);
  if (nearest) {
    return { point, routing: await routingForGrid(db, nearest, at, 'nearest_grid', `${addressNote}no grid covers the point; the nearest within ${NEAREST_GRID_M} m`) };
  }
  const community = await findCommunityAt(db, lon, lat);
  return {
    point,
    routing: {
      gridId: null,
      gridCode: null,
      gridName: null,
      layoutId: null,
      communityCode: community ?? null,
      streetCode: community ? community.slice(0, 9) : null,
      responsibleStaff: null,
      via: community ? 'community' : 'unrouted',
      distanceM: null,
      note: community ? `${addressNote}outside every grid; the community answers for it` : `${addressNote}outside every community: unrouted, handled city-wide`,
    },
  };
}
