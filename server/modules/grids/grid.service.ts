/**
 * Grid editing: create, replace (optimistic concurrency), delete, split, merge, snap, clip, fill a gap,
 * and "which grid covered this point at instant T". Every write runs in a transaction that holds the
 * layout FOR SHARE (see lockLayoutForGridWrite) and only touches draft layouts.
 */
import type { EditResult, GridAtResult, GridCollection, GridFeature, GridInput, GridKind, GridWriteResult, MergeResult, SplitResult } from '../../contracts/grid';
import { RESERVED_GRID_PROPERTIES } from '../../contracts/grid';
import type { Database } from '../../db/database';
import type { Scope } from '../../auth/principal';
import { requireInScope } from '../../auth/scope-check';
import { validatePolygonGeometry } from '../../geo/validate-geometry';
import { AppError, IF_MATCH, PATH_ID, geometryInvalid, type Where } from '../../http/errors';
import { ifMatchHolds, type IfMatch } from '../../http/preconditions';
import { prepareGridGeometry } from './grid-geometry.service';
import {
  checkGap,
  clippedGeometry,
  communityHasBoundary,
  deleteGridIfVersion,
  deleteGrids,
  findGrid,
  findGrids,
  findLayoutHeader,
  findLayoutIdOfGrid,
  gridPlusGapGeometry,
  gridsCoveringAt,
  insertGrid,
  listGrids,
  inspectGeometry,
  lockLayoutForGridWrite,
  snappedGeometry,
  splitGeometry,
  splitPartGeometry,
  toGridFeature,
  unionGeometry,
  unionOfGrids,
  updateGrid,
  type GridRecord,
  type LayoutOfGrid,
} from './grid.repository';

export interface GridWriteOptions {
  fix?: boolean;
  maxVertices: number;
  /** The caller's scope: only grids of communities inside it may be changed. */
  scope: Scope;
}

/** A grid's outline in a grid body (POST/PUT): where its GEOMETRY_INVALID points. */
const GEOMETRY_FIELD = { in: 'body', field: 'geometry' } as const;

/** Gap and split leftovers below this are floating-point noise, not area (m²). */
const NOISE_M2 = 0.01;

/**
 * `where` is the input that named the layout: the path id of a layout route, or the grid id(s) whose
 * layout it is (a grid route's path id, merge's body ids).
 */
async function requireDraftLayout(trx: Database, layoutId: number, scope: Scope, where: Where): Promise<LayoutOfGrid> {
  const layout = await lockLayoutForGridWrite(trx, layoutId);
  if (!layout) throw new AppError('LAYOUT_NOT_FOUND', 404, `Layout ${layoutId} does not exist.`, { ...where, layoutId });
  requireInScope(scope, layout.communityCode, `Layout ${layoutId}`, where);
  if (layout.status !== 'draft') {
    throw new AppError('LAYOUT_PUBLISHED', 409, `Layout ${layoutId} is ${layout.status} and read-only; create a draft to change it.`, { ...where, layoutId, status: layout.status });
  }
  return layout;
}

/** Lock the grid's layout, then read the grid (in that order, so the read is not stale). The grid is the path's id. */
async function requireDraftGrid(trx: Database, gridId: number, scope: Scope): Promise<{ grid: GridRecord; layout: LayoutOfGrid }> {
  const layoutId = await findLayoutIdOfGrid(trx, gridId);
  if (layoutId === undefined) throw new AppError('GRID_NOT_FOUND', 404, `Grid ${gridId} does not exist.`, { ...PATH_ID, gridId });
  const layout = await requireDraftLayout(trx, layoutId, scope, PATH_ID);
  const grid = await findGrid(trx, gridId);
  if (!grid) throw new AppError('GRID_NOT_FOUND', 404, `Grid ${gridId} does not exist.`, { ...PATH_ID, gridId });
  return { grid, layout };
}

interface SplitProperties {
  name: string | undefined;
  kind: GridKind | undefined;
  code: string | null | undefined;
  free: Record<string, unknown>;
}

/** Separate the grid's own fields from the planner's free attributes. */
function splitProperties(properties: GridInput['properties']): SplitProperties {
  const free: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties ?? {})) {
    if (!(RESERVED_GRID_PROPERTIES as readonly string[]).includes(key)) free[key] = value;
  }
  return { name: properties?.name, kind: properties?.kind, code: properties?.code, free };
}

function checkCodeBelongs(code: string | null | undefined, communityCode: string): void {
  if (code && !code.startsWith(communityCode)) {
    throw new AppError('VALIDATION_FAILED', 422, `Grid code ${code} does not start with the community code ${communityCode}.`, { in: 'body', field: 'properties.code', code, communityCode });
  }
}

/**
 * `where` is IF_MATCH when the writer sent the version it edited; an edit that read the version itself
 * (split, merge, snap) can only lose a race, and then names the input that named the grid.
 */
function versionConflict(gridId: number, current: GridRecord | undefined, where: Where): AppError {
  return new AppError('VERSION_CONFLICT', 412, `Grid ${gridId} was changed by someone else; reload it and apply your change again.`, {
    ...where,
    gridId,
    currentVersion: current?.version ?? null,
    current: current ? toGridFeature(current) : null,
  });
}

export async function createGrid(db: Database, layoutId: number, input: GridInput, opts: GridWriteOptions): Promise<GridWriteResult> {
  return db.transaction().execute(async (trx) => {
    const layout = await requireDraftLayout(trx, layoutId, opts.scope, PATH_ID);
    const props = splitProperties(input.properties);
    checkCodeBelongs(props.code, layout.communityCode);
    const prepared = await prepareGridGeometry(trx, input.geometry, { ...opts, where: GEOMETRY_FIELD });
    const grid = await insertGrid(trx, {
      layoutId,
      code: props.code ?? null,
      name: props.name ?? '',
      kind: props.kind ?? 'general',
      properties: props.free,
      geom: prepared.geom,
    });
    return { grid: toGridFeature(grid), ...(prepared.repair ? { repair: prepared.repair } : {}) };
  });
}

/** Published and archived layouts are public history; a draft is visible inside its community's scope. */
async function requireReadableLayout(db: Database, layoutId: number, scope: Scope, where: Where): Promise<void> {
  const layout = await findLayoutHeader(db, layoutId);
  if (!layout) throw new AppError('LAYOUT_NOT_FOUND', 404, `Layout ${layoutId} does not exist.`, { ...where, layoutId });
  if (layout.status === 'draft') requireInScope(scope, layout.communityCode, `Draft layout ${layoutId}`, where);
}

export async function getGrid(db: Database, id: number, scope: Scope): Promise<GridFeature> {
  const grid = await findGrid(db, id);
  if (!grid) throw new AppError('GRID_NOT_FOUND', 404, `Grid ${id} does not exist.`, { ...PATH_ID, gridId: id });
  await requireReadableLayout(db, grid.layoutId, scope, PATH_ID);
  return toGridFeature(grid);
}

export async function replaceGrid(db: Database, id: number, ifMatch: IfMatch, input: GridInput, opts: GridWriteOptions): Promise<GridWriteResult> {
  return db.transaction().execute(async (trx) => {
    const { grid, layout } = await requireDraftGrid(trx, id, opts.scope);
    if (!ifMatchHolds(ifMatch, grid.version)) throw versionConflict(id, grid, IF_MATCH);
    const props = splitProperties(input.properties);
    checkCodeBelongs(props.code, layout.communityCode);
    const prepared = await prepareGridGeometry(trx, input.geometry, { ...opts, where: GEOMETRY_FIELD });
    const updated = await updateGrid(trx, id, grid.version, {
      name: props.name ?? grid.name,
      kind: props.kind ?? grid.kind,
      // A redraw keeps the grid's identity and so its code, unless the planner sets one explicitly.
      code: props.code === undefined ? grid.code : props.code,
      properties: props.free,
      geom: prepared.geom,
    });
    if (!updated) throw versionConflict(id, await findGrid(trx, id), IF_MATCH);
    return { grid: toGridFeature(updated), ...(prepared.repair ? { repair: prepared.repair } : {}) };
  });
}

export async function removeGrid(db: Database, id: number, ifMatch: IfMatch | undefined, scope: Scope): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const { grid } = await requireDraftGrid(trx, id, scope);
    if (!ifMatchHolds(ifMatch, grid.version)) throw versionConflict(id, grid, IF_MATCH);
    // The version just matched guards the delete against a concurrent edit.
    const expectedVersion = ifMatch === undefined ? undefined : grid.version;
    if (!(await deleteGridIfVersion(trx, id, expectedVersion))) throw versionConflict(id, await findGrid(trx, id), expectedVersion === undefined ? PATH_ID : IF_MATCH);
  });
}

/**
 * Cut a grid along a line. The largest part keeps the grid (id, code, attributes); every other part
 * becomes a new grid without a code (it gets the next free number when the layout is coded).
 */
export async function splitGrid(db: Database, id: number, line: unknown, scope: Scope): Promise<SplitResult> {
  return db.transaction().execute(async (trx) => {
    const { grid } = await requireDraftGrid(trx, id, scope);
    const parts = (await splitGeometry(trx, id, line)).filter((p) => p.areaM2 > NOISE_M2);
    if (parts.length < 2) {
      throw new AppError('SPLIT_FAILED', 422, 'The line does not cut the grid into pieces: draw it across the grid from one edge to another.', {
        in: 'body',
        field: 'line',
        gridId: id,
        parts: parts.length,
      });
    }
    const created: GridRecord[] = [];
    // New parts first: their geometry is computed from the grid's current outline.
    for (let i = 1; i < parts.length; i += 1) {
      created.push(
        await insertGrid(trx, {
          layoutId: grid.layoutId,
          code: null,
          name: grid.name ? `${grid.name}-${i + 1}` : '',
          kind: grid.kind,
          properties: grid.properties,
          geom: splitPartGeometry(id, line, i),
          sourceGridId: null,
        }),
      );
    }
    const kept = await updateGrid(trx, id, grid.version, { geom: splitPartGeometry(id, line, 0) });
    if (!kept) throw versionConflict(id, await findGrid(trx, id), PATH_ID);
    return { kept: toGridFeature(kept), created: created.map(toGridFeature) };
  });
}

/** Merge adjacent grids of one draft layout; the largest keeps its id, code and attributes. */
export async function mergeGrids(db: Database, ids: readonly number[], scope: Scope): Promise<MergeResult> {
  return db.transaction().execute(async (trx) => {
    const where: Where = { in: 'body', field: 'ids' };
    const layoutIds = new Set<number>();
    for (const [i, id] of ids.entries()) {
      const layoutId = await findLayoutIdOfGrid(trx, id);
      if (layoutId === undefined) throw new AppError('GRID_NOT_FOUND', 404, `Grid ${id} does not exist.`, { in: 'body', field: `ids/${i}`, gridId: id });
      layoutIds.add(layoutId);
    }
    if (layoutIds.size !== 1) {
      throw new AppError('GRIDS_NOT_IN_ONE_LAYOUT', 422, 'Only grids of the same layout can be merged.', { ...where, layoutIds: [...layoutIds] });
    }
    const [layoutId] = [...layoutIds];
    await requireDraftLayout(trx, layoutId ?? 0, scope, where);
    const grids = await findGrids(trx, ids);
    const union = await unionOfGrids(trx, ids);
    if (union.parts !== 1) {
      throw new AppError('GRIDS_NOT_ADJACENT', 422, 'These grids do not share edges that join them into one area; merge only neighbouring grids.', {
        ...where,
        ids,
        parts: union.parts,
      });
    }
    const keeper = [...grids].sort((a, b) => b.areaM2 - a.areaM2 || a.id - b.id)[0];
    if (!keeper) throw new AppError('GRID_NOT_FOUND', 404, 'No grids to merge.', where);
    const others = grids.filter((g) => g.id !== keeper.id).map((g) => g.id);
    const merged = await updateGrid(trx, keeper.id, keeper.version, { geom: unionGeometry(ids) });
    if (!merged) throw versionConflict(keeper.id, await findGrid(trx, keeper.id), where);
    await deleteGrids(trx, others);
    return { grid: toGridFeature(merged), removedIds: others };
  });
}

/** `where` is the input that asked for the edit (snap's tolerance, the gap, the clipped grid's id). */
async function applyGeometryEdit(trx: Database, grid: GridRecord, geom: ReturnType<typeof snappedGeometry>, what: string, where: Where): Promise<EditResult> {
  const result = await inspectGeometry(trx, geom);
  if (result.empty || result.type === null) {
    throw geometryInvalid({ reason: 'EMPTY', message: `${what} would leave nothing of the grid.` }, where, { gridId: grid.id });
  }
  if (!result.valid) {
    const message = `${what} would make the grid invalid; use a smaller tolerance or edit the vertices by hand.`;
    throw geometryInvalid({ reason: result.reason ?? 'invalid', message, location: result.location }, where, { gridId: grid.id });
  }
  const updated = await updateGrid(trx, grid.id, grid.version, { geom });
  if (!updated) throw versionConflict(grid.id, await findGrid(trx, grid.id), where);
  const changed = JSON.stringify(updated.geometry) !== JSON.stringify(grid.geometry);
  return { grid: toGridFeature(updated), changed, areaBeforeM2: grid.areaM2, areaAfterM2: updated.areaM2 };
}

/** Snap a grid's vertices to its neighbours and the community boundary within `toleranceM`. */
export async function snapGrid(db: Database, id: number, toleranceM: number, scope: Scope): Promise<EditResult> {
  return db.transaction().execute(async (trx) => {
    const { grid } = await requireDraftGrid(trx, id, scope);
    // A lost race names the grid (the path id), as the other edits do; toleranceM may not even be sent.
    return applyGeometryEdit(trx, grid, snappedGeometry(id, toleranceM), 'Snapping', PATH_ID);
  });
}

/** Cut away whatever lies outside the community boundary. */
export async function clipGrid(db: Database, id: number, scope: Scope): Promise<EditResult> {
  return db.transaction().execute(async (trx) => {
    const { grid, layout } = await requireDraftGrid(trx, id, scope);
    if (!(await communityHasBoundary(trx, layout.communityCode))) {
      throw new AppError('COMMUNITY_HAS_NO_BOUNDARY', 422, `Community ${layout.communityCode} has no boundary to clip to.`, { ...PATH_ID, communityCode: layout.communityCode });
    }
    return applyGeometryEdit(trx, grid, clippedGeometry(id), 'Clipping', PATH_ID);
  });
}

/**
 * Give a gap (as reported by the layout validation) to the neighbour sharing the longest edge with it,
 * or to `gridId`. Refuses a "gap" that grids already cover or that lies outside the community.
 */
export async function fillGap(db: Database, layoutId: number, gap: unknown, gridId: number | undefined, scope: Scope): Promise<EditResult> {
  // Gate 2 before any SQL: GEOS cannot measure a self-intersecting ring (it throws a TopologyException).
  const shape = validatePolygonGeometry(gap);
  if (!shape.valid) throw geometryInvalid(shape, { in: 'body', field: 'gap' });
  return db.transaction().execute(async (trx) => {
    const layout = await requireDraftLayout(trx, layoutId, scope, PATH_ID);
    const check = await checkGap(trx, layoutId, layout.communityCode, gap, gridId);
    const tolerance = Math.max(1, check.areaM2 * 0.01);
    const atGap: Where = { in: 'body', field: 'gap' };
    if (check.coveredM2 > tolerance) {
      throw new AppError('GAP_NOT_FOUND', 422, 'That area is already covered by grids; it is not a gap.', { ...atGap, coveredM2: check.coveredM2, areaM2: check.areaM2 });
    }
    if (check.outsideM2 !== null && check.outsideM2 > tolerance) {
      throw new AppError('GRID_OUTSIDE_BOUNDARY', 422, 'That area lies outside the community boundary.', { ...atGap, outsideM2: check.outsideM2 });
    }
    // A named grid that is not a neighbour is that field's fault; otherwise the gap has no neighbour.
    const atNeighbour: Where = gridId === undefined ? atGap : { in: 'body', field: 'gridId' };
    if (!check.neighbour) {
      throw new AppError('GAP_NOT_FOUND', 422, gridId === undefined ? 'No grid shares an edge with that gap.' : `Grid ${gridId} does not share an edge with that gap.`, { ...atNeighbour, gridId: gridId ?? null });
    }
    const target = await findGrid(trx, check.neighbour.id);
    if (!target) throw new AppError('GRID_NOT_FOUND', 404, `Grid ${check.neighbour.id} does not exist.`, atNeighbour);
    return applyGeometryEdit(trx, target, gridPlusGapGeometry(target.id, gap), 'Filling the gap', atGap);
  });
}

/**
 * Which grid covered a point at an instant (published history, like MapIt's generations). A point on a
 * shared edge or vertex is covered by several: the first by code is the answer, and `ambiguous` says so.
 */
export async function findGridAt(db: Database, lon: number, lat: number, at: Date): Promise<GridAtResult> {
  const grids = await gridsCoveringAt(db, lon, lat, at);
  const [first] = grids;
  return {
    at: at.toISOString(),
    grid: first ? toGridFeature(first) : null,
    ambiguous: grids.length > 1,
    candidates: grids.map((g) => ({ id: g.id, code: g.code, layoutId: g.layoutId })),
  };
}

/** Parse `minLng,minLat,maxLng,maxLat`; a box must have positive extent inside the valid ranges. */
export function parseBbox(text: string): [number, number, number, number] {
  const parts = text.split(',').map(Number);
  const [w = NaN, s = NaN, e = NaN, n = NaN] = parts;
  if (parts.length !== 4 || !parts.every(Number.isFinite) || w < -180 || e > 180 || s < -90 || n > 90 || w >= e || s >= n) {
    throw new AppError('VALIDATION_FAILED', 400, 'bbox must be minLng,minLat,maxLng,maxLat with min < max, inside [-180,180] × [-90,90].', { in: 'querystring', field: 'bbox', value: text });
  }
  return [w, s, e, n];
}

export async function listGridCollection(db: Database, opts: { layoutId?: number; bbox?: string; limit?: number }, scope: Scope): Promise<GridCollection> {
  const limit = opts.limit ?? 5_000;
  if (opts.layoutId !== undefined) await requireReadableLayout(db, opts.layoutId, scope, { in: 'querystring', field: 'layout' });
  const grids = await listGrids(db, {
    limit: limit + 1,
    ...(opts.layoutId === undefined ? {} : { layoutId: opts.layoutId }),
    ...(opts.bbox === undefined ? {} : { bbox: parseBbox(opts.bbox) }),
  });
  const page = grids.slice(0, limit);
  return { type: 'FeatureCollection', features: page.map(toGridFeature), numberReturned: page.length, truncated: grids.length > limit };
}
