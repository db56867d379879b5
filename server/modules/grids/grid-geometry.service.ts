/**
 * The geometry gates for a submitted grid: shape and vertex budget (JS, before any SQL), then PostGIS
 * validity with the reason and location of the first problem, in words a planner understands.
 * With `fix`, an invalid geometry is repaired by ST_MakeValid and the answer says what changed.
 */
import type { RawBuilder } from 'kysely';
import type { GeometryRepair } from '../../contracts/grid';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { diagnoseGeometry, storedGeometry } from './grid.repository';

/** GEOS's invalidity reasons (ST_IsValidDetail) explained for planners. */
const EXPLANATIONS: Record<string, string> = {
  'Self-intersection': 'The outline crosses itself (for example a bow-tie shape). Redraw it so no edge crosses another.',
  'Ring Self-intersection': 'The outline touches itself at a point (a pinch). Split it into two grids or move the vertex.',
  'Too few points': 'A ring has too few distinct points to enclose an area.',
  'Hole lies outside shell': 'A hole lies outside the grid it should be cut from.',
  'Nested holes': 'A hole lies inside another hole.',
  'Interior is disconnected': 'Holes cut the grid into separate pieces.',
  'Nested shells': 'One part of the grid lies inside another part.',
  'Duplicate Rings': 'The same ring appears twice.',
  'Invalid Coordinate': 'A coordinate is not a finite number.',
  'Ring is not closed': 'A ring does not end where it starts.',
};

export function explainInvalidity(reason: string | null): string {
  if (!reason) return 'The geometry is not valid.';
  const key = Object.keys(EXPLANATIONS).find((k) => reason.startsWith(k));
  return key ? (EXPLANATIONS[key] ?? reason) : `The geometry is not valid: ${reason}.`;
}

export interface PreparedGeometry {
  /** SQL expression producing the geometry to store. */
  geom: RawBuilder<unknown>;
  repair?: GeometryRepair;
}

function countVertices(geometry: { type: string; coordinates: unknown }): number {
  let n = 0;
  const rings = geometry.type === 'Polygon' ? (geometry.coordinates as unknown[][]) : (geometry.coordinates as unknown[][][]).flat();
  for (const ring of rings) n += ring.length;
  return n;
}

function ringsOf(geometry: { type: string; coordinates: unknown }): Array<{ ring: number[][]; path: string }> {
  if (geometry.type === 'Polygon') return (geometry.coordinates as number[][][]).map((ring, i) => ({ ring, path: `coordinates[${i}]` }));
  return (geometry.coordinates as number[][][][]).flatMap((poly, p) => poly.map((ring, i) => ({ ring, path: `coordinates[${p}][${i}]` })));
}

/** Checks PostGIS would not do for us (it closes nothing silently, but its errors are cryptic). */
function checkShape(geometry: { type: string; coordinates: unknown }, maxVertices: number): void {
  const vertices = countVertices(geometry);
  if (vertices > maxVertices) {
    throw new AppError('GEOMETRY_INVALID', 422, `The grid has ${vertices} vertices; at most ${maxVertices} are accepted.`, { reason: 'TOO_MANY_VERTICES', vertices, maxVertices });
  }
  for (const { ring, path } of ringsOf(geometry)) {
    const first = ring[0];
    const last = ring[ring.length - 1];
    if (!first || !last || first[0] !== last[0] || first[1] !== last[1]) {
      throw new AppError('GEOMETRY_INVALID', 422, 'A ring does not end where it starts: repeat the first position as the last.', { reason: 'RING_NOT_CLOSED', path, location: first ?? null });
    }
    for (const [i, pos] of ring.entries()) {
      if (!pos.every((v) => Number.isFinite(v))) {
        throw new AppError('GEOMETRY_INVALID', 422, 'A coordinate is not a finite number.', { reason: 'COORDINATE_NOT_FINITE', path: `${path}[${i}]` });
      }
    }
  }
}

export async function prepareGridGeometry(
  db: Database,
  geometry: { type: string; coordinates: unknown },
  opts: { fix?: boolean; maxVertices: number },
): Promise<PreparedGeometry> {
  checkShape(geometry, opts.maxVertices);
  const d = await diagnoseGeometry(db, geometry);
  if (d.valid) return { geom: storedGeometry(geometry) };
  if (!opts.fix) {
    throw new AppError('GEOMETRY_INVALID', 422, explainInvalidity(d.reason), {
      reason: d.reason,
      location: d.location,
      hint: 'Fix the outline, or send ?fix=true to let the server repair it (the answer says what changed).',
    });
  }
  if (!d.repaired || d.repaired.empty) {
    throw new AppError('GEOMETRY_INVALID', 422, `${explainInvalidity(d.reason)} It cannot be repaired into an area.`, { reason: d.reason, location: d.location });
  }
  return {
    geom: storedGeometry(geometry, true),
    repair: {
      repaired: true,
      reason: d.reason,
      areaBeforeM2: null,
      areaAfterM2: Math.round(d.repaired.areaM2 * 100) / 100,
      partsBefore: d.parts,
      partsAfter: d.repaired.parts,
    },
  };
}
