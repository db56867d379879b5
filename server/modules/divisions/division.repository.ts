/**
 * SQL for administrative divisions. Boundaries are stored as MultiPolygon (ST_Multi), 2D, exterior
 * rings counter-clockwise (RFC 7946 via ST_ForcePolygonCCW), so every write path stores one normal form.
 *
 * Derived boundaries: the effective boundary of a division is COALESCE(stored, union of its children's
 * effective boundaries). Unrolled, that is the union of the stored boundaries of its "frontier": the
 * descendants that have a stored boundary while every division between them and it has none. The
 * recursive CTEs below walk down only through divisions without a stored boundary and collect that
 * frontier, so the whole recursion is one query in PostGIS.
 */
import { sql, type RawBuilder } from 'kysely';
import type { BoundarySource, DivisionDetail, DivisionLevel, DivisionRef, DivisionSummary } from '../../contracts/division';
import type { PolygonalGeometry } from '../../contracts/geojson';
import type { Database } from '../../db/database';
import { asGeoJson, fromGeoJson } from '../../db/postgis';
import { AppError } from '../../http/errors';

/** Guards the recursive walks against a parent cycle written outside this module (3 levels exist). */
const MAX_DEPTH = 8;

export interface DivisionRecord {
  code: string;
  name: string;
  level: DivisionLevel;
  parentCode: string | null;
}

export interface NewDivision extends DivisionRecord {
  boundary?: PolygonalGeometry | null;
}

export interface GeometryCheck {
  valid: boolean;
  reason: string | null;
  /** `[lng, lat]` of the first problem, when GEOS names one. */
  location: [number, number] | null;
}

/** The stored form of submitted GeoJSON: 2D MultiPolygon with counter-clockwise exteriors. */
function storedBoundary(geometry: PolygonalGeometry): RawBuilder<string> {
  // Typed as the generated column type (hex EWKB string) so kysely accepts it in values/set.
  return sql<string>`ST_Multi(ST_ForcePolygonCCW(ST_Force2D(${fromGeoJson(geometry)})))`;
}

/**
 * `bulk` says whose rows these are: one division of POST /divisions (its body fields code and
 * parentCode) or an import's rows (its body's `content`, which the import's own checks name by line).
 */
function translateWriteError(err: unknown, code: string, bulk: boolean): never {
  const pgCode = (err as { code?: string }).code;
  if (pgCode === '23505') throw new AppError('DIVISION_EXISTS', 409, `Division ${code} already exists.`, { in: 'body', field: bulk ? 'content' : 'code', code });
  if (pgCode === '23503') {
    throw new AppError('DIVISION_INVALID', 422, `The parent of ${code} does not exist.`, {
      in: 'body',
      field: bulk ? 'content' : 'parentCode',
      problems: [{ field: 'parentCode', reason: 'PARENT_NOT_FOUND', message: 'The parent does not exist.' }],
    });
  }
  throw err;
}

/** Validity per GEOS (ST_IsValidDetail) of a submitted geometry, with the reason and location. */
export async function checkBoundary(db: Database, geometry: PolygonalGeometry): Promise<GeometryCheck> {
  const { rows } = await sql<{ valid: boolean; reason: string | null; location: { coordinates: [number, number] } | null }>`
    SELECT (d).valid AS valid, (d).reason AS reason, ST_AsGeoJSON((d).location)::json AS location
    FROM (SELECT ST_IsValidDetail(ST_Force2D(${fromGeoJson(geometry)})) AS d) x`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('geometry check returned no row');
  return { valid: row.valid, reason: row.reason, location: row.location?.coordinates ?? null };
}

/** The divisions among `codes` that exist, by code. */
export async function findDivisions(db: Database, codes: readonly string[]): Promise<Map<string, DivisionRecord>> {
  const found = new Map<string, DivisionRecord>();
  if (codes.length === 0) return found;
  const rows = await db
    .selectFrom('divisions')
    .select(['code', 'name', 'level', 'parent_code'])
    .where('code', '=', sql<string>`ANY(${[...new Set(codes)]}::text[])`)
    .execute();
  for (const row of rows) found.set(row.code, { code: row.code, name: row.name, level: row.level as DivisionLevel, parentCode: row.parent_code });
  return found;
}

export async function insertDivision(db: Database, d: NewDivision): Promise<void> {
  try {
    await db
      .insertInto('divisions')
      .values({ code: d.code, name: d.name, level: d.level, parent_code: d.parentCode, geom: d.boundary ? storedBoundary(d.boundary) : null })
      .execute();
  } catch (err) {
    translateWriteError(err, d.code, false);
  }
}

/** Many divisions without boundaries (imports), in chunks that stay under PostgreSQL's 65,535 parameters. */
export async function insertDivisions(db: Database, divisions: readonly DivisionRecord[]): Promise<void> {
  for (let i = 0; i < divisions.length; i += 1000) {
    const chunk = divisions.slice(i, i + 1000);
    try {
      await db
        .insertInto('divisions')
        .values(chunk.map((d) => ({ code: d.code, name: d.name, level: d.level, parent_code: d.parentCode })))
        .execute();
    } catch (err) {
      translateWriteError(err, chunk.length === 1 ? (chunk[0]?.code ?? '') : `(one of ${chunk[0]?.code ?? ''} … ${chunk.at(-1)?.code ?? ''})`, true);
    }
  }
}

export async function renameDivisions(db: Database, renames: ReadonlyArray<{ code: string; name: string }>): Promise<void> {
  if (renames.length === 0) return;
  await sql`
    UPDATE divisions d SET name = v.name, updated_at = now()
    FROM unnest(${renames.map((r) => r.code)}::text[], ${renames.map((r) => r.name)}::text[]) AS v(code, name)
    WHERE d.code = v.code`.execute(db);
}

/** Name and/or boundary of one division (`boundary: null` clears it); false when it does not exist. */
export async function updateDivision(db: Database, code: string, change: { name?: string; boundary?: PolygonalGeometry | null }): Promise<boolean> {
  const result = await db
    .updateTable('divisions')
    .set({
      updated_at: sql`now()`,
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.boundary !== undefined ? { geom: change.boundary === null ? null : storedBoundary(change.boundary) } : {}),
    })
    .where('code', '=', code)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Stores a boundary unless the same one (vertex for vertex) is already stored; true when it changed. */
export async function replaceBoundaryIfDifferent(db: Database, code: string, boundary: PolygonalGeometry): Promise<boolean> {
  const result = await sql`
    UPDATE divisions d SET geom = n.g, updated_at = now()
    FROM (SELECT ${storedBoundary(boundary)} AS g) n
    WHERE d.code = ${code} AND (d.geom IS NULL OR NOT ST_OrderingEquals(d.geom, n.g))`.execute(db);
  return (result.numAffectedRows ?? 0n) > 0n;
}

interface SummaryRow {
  code: string;
  name: string;
  level: string;
  parent_code: string | null;
  has_boundary: boolean;
  child_count: number;
}

function toSummary(row: SummaryRow): DivisionSummary {
  return {
    code: row.code,
    name: row.name,
    level: row.level as DivisionLevel,
    parentCode: row.parent_code,
    hasBoundary: row.has_boundary,
    childCount: row.child_count,
  };
}

/** Children of `parentCode` (or the top level when null), optionally of one level; codes ascending. */
export async function listDivisions(db: Database, filter: { parentCode: string | null; level?: DivisionLevel }): Promise<DivisionSummary[]> {
  const byParent = filter.parentCode === null ? (filter.level ? sql`TRUE` : sql`d.parent_code IS NULL`) : sql`d.parent_code = ${filter.parentCode}`;
  const byLevel = filter.level ? sql`d.level = ${filter.level}` : sql`TRUE`;
  const { rows } = await sql<SummaryRow>`
    WITH RECURSIVE items AS (
      SELECT d.code, d.name, d.level, d.parent_code, d.geom IS NOT NULL AS stored
      FROM divisions d WHERE ${byParent} AND ${byLevel}
    ),
    walk (root, code, stored, depth) AS (
      SELECT i.code, i.code, i.stored, 0 FROM items i WHERE NOT i.stored
      UNION ALL
      SELECT w.root, c.code, c.geom IS NOT NULL, w.depth + 1
      FROM walk w JOIN divisions c ON c.parent_code = w.code
      WHERE NOT w.stored AND w.depth < ${MAX_DEPTH}
    )
    SELECT i.code, i.name, i.level, i.parent_code,
           i.stored OR EXISTS (SELECT 1 FROM walk w WHERE w.root = i.code AND w.stored) AS has_boundary,
           (SELECT count(*) FROM divisions c WHERE c.parent_code = i.code)::int AS child_count
    FROM items i
    ORDER BY i.code`.execute(db);
  return rows.map(toSummary);
}

interface DetailRow extends SummaryRow {
  stored: boolean;
  boundary: { type: string; coordinates: unknown } | null;
  area_m2: number | null;
  ancestors: Array<{ code: string; name: string; level: string }> | null;
}

/** One division with its effective boundary (stored, else derived from descendants) and its ancestors. */
export async function findDivisionDetail(db: Database, code: string): Promise<DivisionDetail | undefined> {
  const { rows } = await sql<DetailRow>`
    WITH RECURSIVE target AS (
      SELECT d.code, d.name, d.level, d.parent_code, d.geom FROM divisions d WHERE d.code = ${code}
    ),
    frontier (code, geom, depth) AS (
      SELECT c.code, c.geom, 1 FROM target t JOIN divisions c ON c.parent_code = t.code WHERE t.geom IS NULL
      UNION ALL
      SELECT c.code, c.geom, f.depth + 1
      FROM frontier f JOIN divisions c ON c.parent_code = f.code
      WHERE f.geom IS NULL AND f.depth < ${MAX_DEPTH}
    ),
    ancestors (code, name, level, parent_code, depth) AS (
      SELECT p.code, p.name, p.level, p.parent_code, 1 FROM target t JOIN divisions p ON p.code = t.parent_code
      UNION ALL
      SELECT p.code, p.name, p.level, p.parent_code, a.depth + 1
      FROM ancestors a JOIN divisions p ON p.code = a.parent_code
      WHERE a.depth < ${MAX_DEPTH}
    ),
    effective AS (
      SELECT t.*, t.geom IS NOT NULL AS stored,
             COALESCE(t.geom,
               (SELECT ST_Multi(ST_CollectionExtract(ST_Union(f.geom), 3)) FROM frontier f WHERE f.geom IS NOT NULL)) AS g
      FROM target t
    )
    SELECT e.code, e.name, e.level, e.parent_code, e.stored,
           e.g IS NOT NULL AND NOT ST_IsEmpty(e.g) AS has_boundary,
           ${asGeoJson(sql`e.g`)} AS boundary,
           ST_Area(e.g::geography) AS area_m2,
           (SELECT count(*) FROM divisions c WHERE c.parent_code = e.code)::int AS child_count,
           (SELECT json_agg(json_build_object('code', a.code, 'name', a.name, 'level', a.level) ORDER BY a.depth DESC) FROM ancestors a) AS ancestors
    FROM effective e`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const source: BoundarySource = row.stored ? 'stored' : row.has_boundary ? 'derived' : 'none';
  return {
    ...toSummary(row),
    boundary: row.has_boundary ? row.boundary : null,
    boundarySource: source,
    areaM2: row.has_boundary && row.area_m2 !== null ? Math.round(row.area_m2 * 100) / 100 : null,
    ancestors: (row.ancestors ?? []).map((a): DivisionRef => ({ code: a.code, name: a.name, level: a.level as DivisionLevel })),
  };
}
