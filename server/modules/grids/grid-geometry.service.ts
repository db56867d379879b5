/**
 * The geometry gates for a submitted grid after the route schema (gate 1): the isomorphic checks of
 * server/geo (gate 2, also run by the web editor before it submits), then PostGIS validity (gate 3)
 * with GEOS's reason and location of the first problem, in words a planner understands.
 * With `fix`, an invalid geometry is repaired by ST_MakeValid and the answer says what changed.
 */
import type { RawBuilder } from 'kysely';
import type { GeometryRepair } from '../../contracts/grid';
import type { Database } from '../../db/database';
import { validatePolygonGeometry, type GeometryRejection } from '../../geo/validate-geometry';
import { geometryInvalid } from '../../http/errors';
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

/**
 * Reasons a repair (ST_MakeValid) can fix: the outline's topology. Structural problems — ranges, ring
 * closure, vertex budget, emptiness — are refused even with `fix`, since a repair would only guess.
 */
const REPAIRABLE: ReadonlySet<GeometryRejection> = new Set(['SELF_INTERSECTION', 'SPIKE', 'RINGS_INTERSECT', 'HOLE_OUTSIDE_SHELL', 'NESTED_HOLES', 'PARTS_OVERLAP']);

const FIX_HINT = 'Fix the outline, or send ?fix=true to let the server repair it (the answer says what changed).';

/**
 * `where` is the geometry's place in the request: a grid body's `geometry`, or a layout import's
 * feature (`features/3/geometry`, or a file's line and column: whereInFile). The callers know the
 * request shape; this service serves them all.
 */
interface GeometryOptions {
  fix?: boolean;
  maxVertices: number;
  where: { in: 'body'; field: string };
}

/** Gate 2 (server/geo): spec conformance, ranges, closure, vertex budget, self-intersection. */
function checkShape(geometry: unknown, opts: GeometryOptions): void {
  const result = validatePolygonGeometry(geometry, { maxVertices: opts.maxVertices });
  if (result.valid || (opts.fix && REPAIRABLE.has(result.reason))) return;
  throw geometryInvalid(result, opts.where, REPAIRABLE.has(result.reason) ? { hint: FIX_HINT } : {});
}

export async function prepareGridGeometry(
  db: Database,
  geometry: { type: string; coordinates: unknown },
  opts: GeometryOptions,
): Promise<PreparedGeometry> {
  checkShape(geometry, opts);
  const d = await diagnoseGeometry(db, geometry);
  if (d.valid) return { geom: storedGeometry(geometry) };
  // Gate 3 speaks GEOS: its reason (`Self-intersection`) and location, through the same helper as gate 2.
  const rejected = { reason: d.reason ?? 'invalid', location: d.location };
  if (!opts.fix) throw geometryInvalid({ ...rejected, message: explainInvalidity(d.reason) }, opts.where, { hint: FIX_HINT });
  if (!d.repaired || d.repaired.empty) throw geometryInvalid({ ...rejected, message: `${explainInvalidity(d.reason)} It cannot be repaired into an area.` }, opts.where);
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
