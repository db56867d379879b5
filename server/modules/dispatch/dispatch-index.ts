/**
 * The in-memory spatial side of dispatch: published grids and community boundaries in flatbush
 * indexes with exact point-in-polygon (dispatch-geometry.ts). Immutable: a refresh builds a new one and
 * swaps it in, so a lookup never sees half a layout.
 */
import Flatbush from 'flatbush';
import { coversPoint, distanceToGeometryM, metresPerDegree, parseWkbPolygonal, type FlatGeometry } from './dispatch-geometry';
import { CoverageRaster, NONE } from './dispatch-raster';
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
  /** District, street and community names of its community (namesOf, kept on the grid: no map lookup per answer). */
  names: DivisionNames;
}

export interface IndexedDivision {
  code: string;
  level: 'district' | 'street' | 'community';
  name: string;
  parentCode: string | null;
  geom: FlatGeometry | null;
}

function buildIndex(items: ReadonlyArray<{ geom: FlatGeometry | null }>): Flatbush | null {
  const withGeom = items.filter((i) => i.geom !== null);
  if (withGeom.length === 0) return null;
  const index = new Flatbush(items.length);
  for (const item of items) {
    const b = item.geom?.bbox;
    // Items without geometry still take a slot (ids stay array positions) with an empty, unreachable box.
    if (b) index.add(b[0], b[1], b[2], b[3]);
    else index.add(Infinity, Infinity, Infinity, Infinity);
  }
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

export class SpatialIndex {
  /** In code order (then id), as gridsCoveringAt orders them: the first covering grid wins a tie. */
  readonly grids: IndexedGrid[];
  readonly divisions = new Map<string, IndexedDivision>();
  private readonly communities: IndexedDivision[];
  private readonly gridIndex: Flatbush | null;
  /** Points well inside one grid (or outside all) are answered from here without the exact test (dispatch-raster.ts). */
  private readonly gridRaster: CoverageRaster;
  /** Per grid position, the one-grid answer of gridsCovering (shared, frozen). */
  private readonly alone: ReadonlyArray<readonly IndexedGrid[]>;
  private readonly communityIndex: Flatbush | null;
  /** Latest effective_from of the live layouts (ms): instants from here on are answered from memory. */
  readonly validFromMs: number;
  /** namesOf answers per community code (the index is immutable, so they never go stale). */
  private readonly names = new Map<string, DivisionNames>();

  constructor(grids: readonly GridSnapshotRow[], divisions: readonly DivisionSnapshotRow[]) {
    this.grids = grids.map(({ wkb, ...g }, position) => {
      const effectiveFromIso = g.effectiveFrom.toISOString();
      const coversView = Object.freeze({ id: g.id, code: g.code, name: g.name, kind: g.kind, layoutId: g.layoutId, layoutEffectiveFrom: effectiveFromIso, match: 'covers' as const, distanceM: 0 });
      return { ...g, geom: parseWkbPolygonal(wkb), effectiveFromIso, coversView, insideMessage: `Inside grid ${g.code} ${g.name}.`, position, names: NO_NAMES };
    });
    for (const d of divisions) this.divisions.set(d.code, { code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, geom: d.wkb ? parseWkbPolygonal(d.wkb) : null });
    this.communities = [...this.divisions.values()].filter((d) => d.level === 'community' && d.geom !== null);
    for (const g of this.grids) g.names = this.namesOf(g.communityCode);
    this.gridIndex = buildIndex(this.grids);
    this.gridRaster = new CoverageRaster(this.grids.map((g) => g.geom));
    this.alone = this.grids.map((g) => Object.freeze([g]));
    this.communityIndex = buildIndex(this.communities);
    this.validFromMs = this.grids.reduce((max, g) => Math.max(max, g.effectiveFrom.getTime()), -Infinity);
  }

  /** Every grid covering the point, in code order. Shared: do not modify. */
  gridsCovering(lon: number, lat: number): readonly IndexedGrid[] {
    if (!this.gridIndex) return NO_GRIDS;
    const cell = this.gridRaster.at(lon, lat);
    if (cell >= 0) return this.alone[cell] ?? NO_GRIDS;
    if (cell === NONE) return NO_GRIDS;
    return this.gridsCoveringExactly(lon, lat);
  }

  /** gridsCovering without the raster: flatbush candidates, then the exact point-in-polygon test. */
  gridsCoveringExactly(lon: number, lat: number): IndexedGrid[] {
    if (!this.gridIndex) return [];
    const ids = this.gridIndex.search(lon, lat, lon, lat);
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
    if (!this.gridIndex || maxDistanceM <= 0) return null;
    const k = metresPerDegree(lat);
    const dx = maxDistanceM / k.kx;
    const dy = maxDistanceM / k.ky;
    let best: { grid: IndexedGrid; distanceM: number; order: number } | null = null;
    for (const id of this.gridIndex.search(lon - dx, lat - dy, lon + dx, lat + dy)) {
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
    if (!this.communityIndex) return null;
    let best: IndexedDivision | null = null;
    for (const id of this.communityIndex.search(lon, lat, lon, lat)) {
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
