/**
 * SQL of the layout topology report. PostGIS 3.3 has no ST_Coverage* functions, so coverage is checked
 * with plain overlay: pairwise ST_Relate/ST_Intersection for overlaps, boundary minus ST_Union for gaps,
 * grid minus boundary for outside parts, ST_Dump for slivers and multi-part grids. Everything is
 * set-based over an array of layout ids, so one layout or a whole district costs the same number of
 * round trips. Areas and lengths are geodesic (`::geography`, m² and m), because degrees are not a unit
 * of area and a tolerance of "1 m²" must mean the same in Harbin and Sanya.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.gen';
import type { GapProblem, MultipartProblem, OutsideProblem, OverlapProblem, SliverProblem } from '../../contracts/layout-validation';

/** A layout as the report needs it. */
export interface LayoutToValidate {
  layoutId: number;
  communityCode: string;
  hasBoundary: boolean;
  gridCount: number;
}

/** Thresholds the SQL filters by (everything at or below a tolerance is floating-point noise). */
export interface TopologyThresholds {
  overlapToleranceM2: number;
  gapToleranceM2: number;
  outsideToleranceM2: number;
  minAreaM2: number;
  minCompactness: number;
}

type WithoutSeverity<T> = T extends unknown ? Omit<T, 'severity'> & { layoutId: number } : never;
/** A problem as found; the service decides its severity (it depends on strict mode). */
export type TopologyFinding = WithoutSeverity<OverlapProblem | GapProblem | OutsideProblem | SliverProblem | MultipartProblem>;

/** A grid with its household count; `households` is null while there is no household registry. */
export interface GridHouseholdCount {
  layoutId: number;
  gridId: number;
  gridCode: string | null;
  households: number | null;
  /** The grid's geometry, only when its count is outside the target range (to highlight it). */
  geometry: TopologyFinding['geometry'] | null;
}

/**
 * Coordinates are snapped to this grid (degrees, ≈ 0.1 mm) only where a measurement would otherwise
 * depend on floating-point luck: the length of the edge a gap shares with a grid. A gap's boundary is
 * computed by the overlay and its new vertices lie within ~1e-15° of the grid's edge, on either side;
 * a fixed-precision overlay (GEOS ≥ 3.9 snap-rounding) makes the two coincide.
 */
const EDGE_GRID_SIZE_DEG = 1e-9;
/**
 * Search distance (degrees, ≈ 1 mm) for "grids that touch a gap": ST_Intersects could miss a grid that
 * touches only where the overlay computed a vertex a hair off its edge. ST_DWithin still uses the index.
 */
const TOUCH_DISTANCE_DEG = 1e-8;

/**
 * Run `fn` with JIT compilation off for the current transaction, then put the setting back (publishing
 * calls this inside its own transaction). PostGIS declares its functions expensive, so the report's
 * statements cross `jit_above_cost` and PostgreSQL spends ~1 s compiling LLVM code for a query that runs
 * in ~50 ms (measured on a 500-grid layout). `set_config(…, true)` is transaction-local: outside a
 * transaction it would be a no-op, so `db` must be one.
 */
export async function withJitOff<T>(trx: Kysely<DB>, fn: () => Promise<T>): Promise<T> {
  const { rows } = await sql<{ jit: string }>`SELECT current_setting('jit') AS jit, set_config('jit', 'off', true)`.execute(trx);
  const previous = rows[0]?.jit ?? 'on';
  const result = await fn();
  await sql`SELECT set_config('jit', ${previous}, true)`.execute(trx);
  return result;
}

export async function findLayoutsToValidate(db: Kysely<DB>, layoutIds: readonly number[]): Promise<LayoutToValidate[]> {
  const { rows } = await sql<LayoutToValidate>`
    SELECT l.id AS "layoutId", l.community_code AS "communityCode", d.geom IS NOT NULL AS "hasBoundary",
           (SELECT count(*)::int FROM grids g WHERE g.layout_id = l.id) AS "gridCount"
    FROM layouts l
    LEFT JOIN divisions d ON d.code = l.community_code
    WHERE l.id = ANY(${layoutIds}::int[])
    ORDER BY l.id`.execute(db);
  return rows;
}

interface FindingRow {
  kind: TopologyFinding['kind'];
  layoutId: number;
  gridIds: number[];
  gridCodes: Array<string | null>;
  geometry: TopologyFinding['geometry'];
  areaM2: number;
  perimeterM: number | null;
  compactness: number | null;
  part: number | null;
  parts: number | null;
  suggestedGridId: number | null;
  sharedEdgeM: number | null;
}

/**
 * Every topology problem of the given layouts in one statement (one snapshot, one round trip). Rows are
 * ordered by layout, kind, grid ids, then area, so reports are deterministic.
 */
export async function findTopologyProblems(db: Kysely<DB>, layoutIds: readonly number[], t: TopologyThresholds): Promise<TopologyFinding[]> {
  const ids = sql`${layoutIds}::int[]`;
  const { rows } = await sql<FindingRow>`
    WITH lay AS MATERIALIZED (
      SELECT l.id AS layout_id, d.geom AS boundary
      FROM layouts l LEFT JOIN divisions d ON d.code = l.community_code
      WHERE l.id = ANY(${ids})
    ),
    -- Pairs whose interiors share an area ('2********'). Grids sharing an edge with identical vertices
    -- meet in a line (dimension 1) and never get here. a.geom && b.geom lets the planner probe the GiST
    -- index per grid instead of testing all n² pairs of a layout; a.id < b.id reports each pair once.
    overlap AS (
      SELECT a.layout_id, ARRAY[a.id, b.id] AS grid_ids, ARRAY[a.code, b.code] AS grid_codes,
             -- The intersection of two polygons may also hold lines and points where they merely touch.
             ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS geom
      FROM grids a
      JOIN grids b ON b.layout_id = a.layout_id AND a.id < b.id AND a.geom && b.geom
      WHERE a.layout_id = ANY(${ids}) AND ST_Relate(a.geom, b.geom, '2********')
    ),
    overlap_found AS (
      SELECT o.*, ST_Area(o.geom::geography) AS area_m2 FROM overlap o
    ),
    -- Layouts without grids have no row here; COALESCE below makes the whole boundary their gap.
    covered AS (
      SELECT g.layout_id, ST_Union(g.geom) AS geom
      FROM grids g WHERE g.layout_id = ANY(${ids})
      GROUP BY g.layout_id
    ),
    gap AS (
      SELECT lay.layout_id, p.geom, ST_Area(p.geom::geography) AS area_m2
      FROM lay
      LEFT JOIN covered c ON c.layout_id = lay.layout_id
      CROSS JOIN LATERAL ST_Dump(COALESCE(ST_Difference(lay.boundary, c.geom), lay.boundary)) p
      WHERE lay.boundary IS NOT NULL
    ),
    gap_found AS MATERIALIZED (
      SELECT row_number() OVER () AS gap_id, gap.* FROM gap WHERE gap.area_m2 > ${t.gapToleranceM2}
    ),
    gap_neighbour AS (
      SELECT gf.gap_id, n.id, n.code,
             ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(gf.geom), n.geom, ${EDGE_GRID_SIZE_DEG}::float8), 2)::geography) AS shared_m
      FROM gap_found gf
      JOIN grids n ON n.layout_id = gf.layout_id AND ST_DWithin(n.geom, gf.geom, ${TOUCH_DISTANCE_DEG}::float8)
    ),
    gap_neighbours AS (
      SELECT gap_id,
             array_agg(id ORDER BY id) AS grid_ids,
             array_agg(code ORDER BY id) AS grid_codes,
             -- A grid touching the gap only at a corner cannot absorb it contiguously.
             (array_agg(id ORDER BY shared_m DESC, id) FILTER (WHERE shared_m > 0))[1] AS suggested_grid_id,
             max(shared_m) FILTER (WHERE shared_m > 0) AS shared_edge_m
      FROM gap_neighbour GROUP BY gap_id
    ),
    -- ST_CoveredBy first: most grids lie inside and it is far cheaper than computing a difference.
    outside AS (
      SELECT g.layout_id, g.id, g.code, ST_CollectionExtract(ST_Difference(g.geom, lay.boundary), 3) AS geom
      FROM grids g JOIN lay ON lay.layout_id = g.layout_id
      WHERE lay.boundary IS NOT NULL AND NOT ST_CoveredBy(g.geom, lay.boundary)
    ),
    outside_found AS (
      SELECT o.*, ST_Area(o.geom::geography) AS area_m2 FROM outside o
    ),
    -- Compactness per polygon part: a multi-part grid's thin piece is a sliver even if the grid is not.
    -- The geography perimeter includes hole rings, as Polsby–Popper intends (holes make a shape less compact).
    part AS (
      SELECT g.layout_id, g.id, g.code, COALESCE(p.path[1], 1) AS part, p.geom,
             ST_Area(p.geom::geography) AS area_m2, ST_Perimeter(p.geom::geography) AS perimeter_m
      FROM grids g CROSS JOIN LATERAL ST_Dump(g.geom) p
      WHERE g.layout_id = ANY(${ids})
    ),
    sliver AS (
      SELECT part.*, 4 * pi() * area_m2 / nullif(perimeter_m * perimeter_m, 0) AS compactness FROM part
    )
    SELECT 'overlap' AS kind, layout_id AS "layoutId", grid_ids AS "gridIds", grid_codes AS "gridCodes",
           ST_AsGeoJSON(geom, 9)::json AS geometry, area_m2 AS "areaM2",
           NULL::float8 AS "perimeterM", NULL::float8 AS compactness, NULL::int AS part, NULL::int AS parts,
           NULL::int AS "suggestedGridId", NULL::float8 AS "sharedEdgeM"
    FROM overlap_found WHERE area_m2 > ${t.overlapToleranceM2}
    UNION ALL
    SELECT 'gap', gf.layout_id, COALESCE(nb.grid_ids, '{}'), COALESCE(nb.grid_codes, '{}'),
           ST_AsGeoJSON(gf.geom, 9)::json, gf.area_m2, NULL, NULL, NULL, NULL, nb.suggested_grid_id, nb.shared_edge_m
    FROM gap_found gf LEFT JOIN gap_neighbours nb ON nb.gap_id = gf.gap_id
    UNION ALL
    SELECT 'outside', layout_id, ARRAY[id], ARRAY[code], ST_AsGeoJSON(geom, 9)::json, area_m2, NULL, NULL, NULL, NULL, NULL, NULL
    FROM outside_found WHERE area_m2 > ${t.outsideToleranceM2}
    UNION ALL
    SELECT 'sliver', layout_id, ARRAY[id], ARRAY[code], ST_AsGeoJSON(geom, 9)::json, area_m2, perimeter_m, compactness, part, NULL, NULL, NULL
    FROM sliver WHERE area_m2 < ${t.minAreaM2} OR compactness < ${t.minCompactness}
    UNION ALL
    SELECT 'multipart', g.layout_id, ARRAY[g.id], ARRAY[g.code], ST_AsGeoJSON(g.geom, 9)::json, g.area_m2, NULL, NULL, NULL,
           ST_NumGeometries(g.geom), NULL, NULL
    FROM grids g WHERE g.layout_id = ANY(${ids}) AND ST_NumGeometries(g.geom) > 1
    ORDER BY "layoutId", kind, "gridIds", "areaM2" DESC`.execute(db);
  return rows.map((r) => toFinding(r, t));
}

function toFinding(r: FindingRow, t: TopologyThresholds): TopologyFinding {
  const base = { layoutId: r.layoutId, gridIds: r.gridIds, gridCodes: r.gridCodes, geometry: r.geometry, areaM2: r.areaM2 };
  switch (r.kind) {
    case 'overlap':
    case 'outside':
      return { kind: r.kind, ...base };
    case 'gap':
      return { kind: 'gap', ...base, suggestedGridId: r.suggestedGridId, sharedEdgeM: r.sharedEdgeM };
    case 'sliver': {
      const perimeterM = r.perimeterM ?? 0;
      const compactness = r.compactness ?? 0;
      const reasons: Array<'small' | 'thin'> = [];
      if (r.areaM2 < t.minAreaM2) reasons.push('small');
      if (compactness < t.minCompactness) reasons.push('thin');
      return { kind: 'sliver', ...base, part: r.part ?? 1, perimeterM, compactness, reasons };
    }
    case 'multipart':
      return { kind: 'multipart', ...base, parts: r.parts ?? 2 };
  }
}

/**
 * Each grid of the layouts with its household count, from the household registry (`households.grid_id`,
 * soft-deleted rows excluded). Until a `households` table with a `grid_id` column exists (the registry
 * arrives with a later migration), counts are null. Kept apart so that counting rules (e.g. leaving out
 * vacant units, or counting a draft's households spatially through their buildings) change only here.
 */
export async function listGridHouseholds(
  db: Kysely<DB>,
  layoutIds: readonly number[],
  range: { householdsMin: number; householdsMax: number },
): Promise<{ registry: boolean; grids: GridHouseholdCount[] }> {
  const { rows: probe } = await sql<{ registry: boolean; softDelete: boolean }>`
    SELECT bool_or(attname = 'grid_id') IS TRUE AS registry, bool_or(attname = 'deleted_at') IS TRUE AS "softDelete"
    FROM pg_attribute
    WHERE attrelid = to_regclass('public.households') AND attname IN ('grid_id', 'deleted_at') AND NOT attisdropped`.execute(db);
  const registry = probe[0]?.registry === true;
  const live = probe[0]?.softDelete === true ? sql`AND h.deleted_at IS NULL` : sql``;
  // The tables are named only when they exist; otherwise the statement would not even parse.
  // Households linked to a grid of the layout count there; the others (a draft's: theirs point at the
  // published grids) are placed by their building with registry_grid_for, the rule a publish applies,
  // evaluated once per building within the layout's extent.
  const spatial = registry
    ? sql`(SELECT to_regprocedure('registry_grid_for(geometry,integer)') IS NOT NULL AND to_regclass('public.buildings') IS NOT NULL)`
    : sql`false`;
  const { rows: sp } = await sql<{ ok: boolean }>`SELECT ${spatial} AS ok`.execute(db);
  const placed =
    registry && sp[0]?.ok === true
      ? sql`SELECT registry_grid_for(b.geom, l.layout_id) AS grid_id, sum(hb.n)::int AS n
            FROM (SELECT layout_id, ST_SetSRID(ST_Extent(geom)::geometry, 4326) AS ext FROM grids WHERE layout_id = ANY(${layoutIds}::int[]) GROUP BY layout_id) l
            JOIN public.buildings b ON b.geom && l.ext AND b.deleted_at IS NULL
            CROSS JOIN LATERAL (
              SELECT count(*)::int AS n FROM public.households h
              WHERE h.building_id = b.id ${live}
                AND NOT EXISTS (SELECT 1 FROM grids x WHERE x.id = h.grid_id AND x.layout_id = l.layout_id)
            ) hb
            WHERE hb.n > 0
            GROUP BY 1`
      : sql`SELECT NULL::int AS grid_id, 0 AS n WHERE false`;
  const linked = registry
    ? sql`SELECT h.grid_id, count(*)::int AS n FROM public.households h
          WHERE h.grid_id IN (SELECT id FROM grids WHERE layout_id = ANY(${layoutIds}::int[])) ${live} GROUP BY h.grid_id`
    : sql`SELECT NULL::int AS grid_id, 0 AS n WHERE false`;
  const { rows } = await sql<GridHouseholdCount>`
    WITH linked AS (${linked}), placed AS (${placed})
    SELECT g.layout_id AS "layoutId", g.id AS "gridId", g.code AS "gridCode", c.households,
           CASE WHEN c.households NOT BETWEEN ${range.householdsMin}::int AND ${range.householdsMax}::int
                THEN ST_AsGeoJSON(g.geom, 9)::json END AS geometry
    FROM grids g
    CROSS JOIN LATERAL (
      SELECT CASE WHEN ${registry} THEN coalesce((SELECT n FROM linked WHERE grid_id = g.id), 0) + coalesce((SELECT n FROM placed WHERE grid_id = g.id), 0) END AS households
    ) c
    WHERE g.layout_id = ANY(${layoutIds}::int[])
    ORDER BY g.layout_id, g.id`.execute(db);
  return { registry, grids: rows };
}
