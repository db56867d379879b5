/**
 * The in-memory spatial side of dispatch: published grids and community boundaries in flatbush
 * indexes with exact point-in-polygon (dispatch-geometry.ts). Immutable: a refresh builds a new one and
 * swaps it in, so a lookup never sees half a layout.
 *
 * Two layers, rebuilt separately (issue #6: a rebuild must not stall lookups, nor redo what did not
 * change): the grid layer (geometries, flatbush, coverage raster — rebuilt when the published grids
 * change: a publish, an edit of a published grid) and the division layer (divisions, community
 * boundaries — rebuilt when divisions change). A SpatialIndex joins one of each with the names of
 * every grid's district, street and community. Every build runs in steps (dispatch-steps.ts) that
 * yield to the event loop between small pieces of work.
 */
import Flatbush from 'flatbush';
import { coversPoint, distanceToGeometryM, metresPerDegree, parseWkbPolygonal, type FlatGeometry } from './dispatch-geometry';
import { CoverageRaster, NONE } from './dispatch-raster';
import { runAll, type Steps } from './dispatch-steps';
import type { DivisionSnapshotRow, GridSnapshotRow } from './dispatch.repository';

export interface IndexedGrid extends Omit<GridSnapshotRow, 'wkb'> {
  geom: FlatGeometry;
  effectiveFromIso: string;
  /** The grid as an answer shows it when it covers the point (built once, shared, frozen). */
  coversView: Readonly<{ id: number; code: string; name: string; kind: string; layoutId: number; layoutEffectiveFrom: string; match: 'covers'; distanceM: number }>;
  /** The answer's message for a point inside this grid alone (built once). */
  insideMessage: string;
  /** Its position in SpatialIndex.grids. */
  position: number;
}

export interface IndexedDivision {
  code: string;
  level: 'district' | 'street' | 'community';
  name: string;
  parentCode: string | null;
  geom: FlatGeometry | null;
}

/** Rows parsed (or boxes added to a flatbush) per build step. */
const ITEMS_PER_STEP = 64;

function* buildIndex(items: ReadonlyArray<{ geom: FlatGeometry | null }>): Steps<Flatbush | null> {
  if (!items.some((i) => i.geom !== null)) return null;
  const index = new Flatbush(items.length);
  for (let i = 0; i < items.length; i++) {
    const b = items[i]!.geom?.bbox;
    // Items without geometry still take a slot (ids stay array positions) with an empty, unreachable box.
    if (b) index.add(b[0], b[1], b[2], b[3]);
    else index.add(Infinity, Infinity, Infinity, Infinity);
    if (i % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
  }
  yield;
  // Sorts the boxes along a Hilbert curve: about 2 ms for 10,000 grids, one step.
  index.finish();
  return index;
}

export interface CodeName {
  code: string;
  name: string;
}

/** District, street and community of a place as the answer shows them (each null when not registered). */
export interface DivisionNames {
  district: CodeName | null;
  street: CodeName | null;
  community: CodeName | null;
}

const NO_NAMES: DivisionNames = Object.freeze({ district: null, street: null, community: null });
const NO_GRIDS: readonly IndexedGrid[] = Object.freeze([]);

/** The published grids: geometries, flatbush and coverage raster. Immutable once built. */
export class GridLayer {
  private constructor(
    /** In code order (then id), as gridsCoveringAt orders them: the first covering grid wins a tie. */
    readonly grids: readonly IndexedGrid[],
    readonly index: Flatbush | null,
    /** Points well inside one grid (or outside all) are answered from here without the exact test (dispatch-raster.ts). */
    readonly raster: CoverageRaster,
    /** Per grid position, the one-grid answer of gridsCovering (shared, frozen). */
    readonly alone: ReadonlyArray<readonly IndexedGrid[]>,
    /** Latest effective_from of the live layouts (ms): instants from here on are answered from memory. */
    readonly validFromMs: number,
  ) {}

  static *build(rows: readonly GridSnapshotRow[]): Steps<GridLayer> {
    const grids: IndexedGrid[] = [];
    let validFromMs = -Infinity;
    for (let position = 0; position < rows.length; position++) {
      const { wkb, ...g } = rows[position]!;
      const effectiveFromIso = g.effectiveFrom.toISOString();
      const coversView = Object.freeze({ id: g.id, code: g.code, name: g.name, kind: g.kind, layoutId: g.layoutId, layoutEffectiveFrom: effectiveFromIso, match: 'covers' as const, distanceM: 0 });
      grids.push({ ...g, geom: parseWkbPolygonal(wkb), effectiveFromIso, coversView, insideMessage: `Inside grid ${g.code} ${g.name}.`, position });
      validFromMs = Math.max(validFromMs, g.effectiveFrom.getTime());
      if (position % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
    }
    const index = yield* buildIndex(grids);
    const raster = yield* CoverageRaster.build(grids.map((g) => g.geom));
    const alone = grids.map((g) => Object.freeze([g]));
    return new GridLayer(Object.freeze(grids), index, raster, alone, validFromMs);
  }
}

/** Districts, streets and communities, with the community boundaries in a flatbush. Immutable once built. */
export class DivisionLayer {
  readonly divisions = new Map<string, IndexedDivision>();
  private communities: IndexedDivision[] = [];
  private index: Flatbush | null = null;
  /** namesOf answers per community code (the layer is immutable, so they never go stale). */
  private readonly names = new Map<string, DivisionNames>();

  private constructor() {}

  static *build(rows: readonly DivisionSnapshotRow[]): Steps<DivisionLayer> {
    const layer = new DivisionLayer();
    for (let i = 0; i < rows.length; i++) {
      const d = rows[i]!;
      layer.divisions.set(d.code, { code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, geom: d.wkb ? parseWkbPolygonal(d.wkb) : null });
      if (i % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
    }
    layer.communities = [...layer.divisions.values()].filter((d) => d.level === 'community' && d.geom !== null);
    layer.index = yield* buildIndex(layer.communities);
    return layer;
  }

  /** The community whose boundary covers the point (lowest code on a shared edge). */
  communityAt(lon: number, lat: number): IndexedDivision | null {
    if (!this.index) return null;
    let best: IndexedDivision | null = null;
    for (const id of this.index.search(lon, lat, lon, lat)) {
      const c = this.communities[id];
      if (c?.geom && coversPoint(c.geom, lon, lat) && (!best || c.code < best.code)) best = c;
    }
    return best;
  }

  /** `hierarchy` as code/name pairs, built once per community: shared by every answer, never modified. */
  namesOf(communityCode: string | null): DivisionNames {
    if (!communityCode) return NO_NAMES;
    let names = this.names.get(communityCode);
    if (!names) {
      const h = this.hierarchy(communityCode);
      const view = (d: IndexedDivision | null): CodeName | null => (d ? Object.freeze({ code: d.code, name: d.name }) : null);
      names = Object.freeze({ district: view(h.district), street: view(h.street), community: view(h.community) });
      this.names.set(communityCode, names);
    }
    return names;
  }

  /** District, street and community of a community code (each null when not registered). */
  hierarchy(communityCode: string | null): { district: IndexedDivision | null; street: IndexedDivision | null; community: IndexedDivision | null } {
    const community = communityCode ? (this.divisions.get(communityCode) ?? null) : null;
    const street = communityCode ? (this.divisions.get(community?.parentCode ?? communityCode.slice(0, 9)) ?? null) : null;
    const district = communityCode ? (this.divisions.get(street?.parentCode ?? communityCode.slice(0, 6)) ?? null) : null;
    return { district, street, community };
  }
}

export class SpatialIndex {
  /** In code order (then id), as gridsCoveringAt orders them: the first covering grid wins a tie. */
  readonly grids: readonly IndexedGrid[];
  readonly divisions: ReadonlyMap<string, IndexedDivision>;
  /** Latest effective_from of the live layouts (ms): instants from here on are answered from memory. */
  readonly validFromMs: number;

  private constructor(
    readonly gridLayer: GridLayer,
    readonly divisionLayer: DivisionLayer,
    /** Per grid position, the names of its community's district, street and community (no map lookup per answer). */
    private readonly gridNames: readonly DivisionNames[],
  ) {
    this.grids = gridLayer.grids;
    this.divisions = divisionLayer.divisions;
    this.validFromMs = gridLayer.validFromMs;
  }

  /** Join a grid layer and a division layer (either may be the one already serving). */
  static *build(grids: GridLayer, divisions: DivisionLayer): Steps<SpatialIndex> {
    const names: DivisionNames[] = [];
    for (const g of grids.grids) {
      names.push(divisions.namesOf(g.communityCode));
      if (g.position % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
    }
    return new SpatialIndex(grids, divisions, names);
  }

  /** Every step of a build from rows: the grid layer, the division layer, then the join. */
  static *fromRows(grids: readonly GridSnapshotRow[], divisions: readonly DivisionSnapshotRow[]): Steps<SpatialIndex> {
    const gridLayer = yield* GridLayer.build(grids);
    const divisionLayer = yield* DivisionLayer.build(divisions);
    return yield* SpatialIndex.build(gridLayer, divisionLayer);
  }

  /** A whole index from rows in one synchronous go (tests, tools). */
  static of(grids: readonly GridSnapshotRow[], divisions: readonly DivisionSnapshotRow[]): SpatialIndex {
    return runAll(SpatialIndex.fromRows(grids, divisions));
  }

  /** The names of the district, street and community of the grid at a position. */
  namesAt(position: number): DivisionNames {
    return this.gridNames[position] ?? NO_NAMES;
  }

  /** Every grid covering the point, in code order. Shared: do not modify. */
  gridsCovering(lon: number, lat: number): readonly IndexedGrid[] {
    const layer = this.gridLayer;
    if (!layer.index) return NO_GRIDS;
    const cell = layer.raster.at(lon, lat);
    if (cell >= 0) return layer.alone[cell] ?? NO_GRIDS;
    if (cell === NONE) return NO_GRIDS;
    return this.gridsCoveringExactly(lon, lat);
  }

  /** gridsCovering without the raster: flatbush candidates, then the exact point-in-polygon test. */
  gridsCoveringExactly(lon: number, lat: number): IndexedGrid[] {
    const index = this.gridLayer.index;
    if (!index) return [];
    const ids = index.search(lon, lat, lon, lat);
    // Flatbush returns ids in tree order; ids are array positions, and array order is code order.
    if (ids.length > 1) ids.sort((a, b) => a - b);
    const out: IndexedGrid[] = [];
    for (const id of ids) {
      const g = this.grids[id];
      if (g && coversPoint(g.geom, lon, lat)) out.push(g);
    }
    return out;
  }

  /** The nearest grid within maxDistanceM (metres, local ellipsoidal frame), lowest code on a tie. */
  nearestGrid(lon: number, lat: number, maxDistanceM: number): { grid: IndexedGrid; distanceM: number } | null {
    const index = this.gridLayer.index;
    if (!index || maxDistanceM <= 0) return null;
    const k = metresPerDegree(lat);
    const dx = maxDistanceM / k.kx;
    const dy = maxDistanceM / k.ky;
    let best: { grid: IndexedGrid; distanceM: number; order: number } | null = null;
    for (const id of index.search(lon - dx, lat - dy, lon + dx, lat + dy)) {
      const g = this.grids[id];
      if (!g) continue;
      const d = distanceToGeometryM(g.geom, lon, lat, k);
      if (d > maxDistanceM) continue;
      if (!best || d < best.distanceM || (d === best.distanceM && id < best.order)) best = { grid: g, distanceM: d, order: id };
    }
    return best ? { grid: best.grid, distanceM: best.distanceM } : null;
  }

  /** The community whose boundary covers the point (lowest code on a shared edge). */
  communityAt(lon: number, lat: number): IndexedDivision | null {
    return this.divisionLayer.communityAt(lon, lat);
  }

  /** `hierarchy` as code/name pairs, built once per community: shared by every answer, never modified. */
  namesOf(communityCode: string | null): DivisionNames {
    return this.divisionLayer.namesOf(communityCode);
  }

  /** District, street and community of a community code (each null when not registered). */
  hierarchy(communityCode: string | null): { district: IndexedDivision | null; street: IndexedDivision | null; community: IndexedDivision | null } {
    return this.divisionLayer.hierarchy(communityCode);
  }
}
