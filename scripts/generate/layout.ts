/**
 * Spatial layout: blocks between roads, streets and communities as groups of blocks, grids as blocks
 * or sub-blocks, all rectangles of one lattice (see geometry.ts). Cheap even for the large city
 * (~1k grids), so it is computed eagerly; everything per-household is generated lazily from it.
 */
import type { MultiPolygon, Polygon } from 'geojson';
import { readingOrder } from '../../server/modules/grids/grid-codes';
import { bboxCentre, CELL_M, type CellRect, Lattice, polygonBbox, splitRect } from './geometry';
import { laneName, placeName, roadName } from './names';
import { type Rng, rngFor } from './random';
import { type DemoCitySize, type Division, type Grid, type Road } from './types';

/**
 * City dimensions in blocks (the areas between through roads, each 4–6 × 3–5 cells of 100 m).
 * Blocks hold 2–4 grids (~3.3 on average) and grids ~400 households of ~2.6 people, so
 * residents ≈ blocks × 3.3 × 400 × 2.6.
 */
export interface DemoCitySizeSpec {
  blocksX: number;
  blocksY: number;
  streets: number;
  communities: number;
}

export const DEMO_CITY_SIZES: Record<DemoCitySize, DemoCitySizeSpec> = {
  small: { blocksX: 2, blocksY: 2, streets: 1, communities: 3 },
  medium: { blocksX: 9, blocksY: 4, streets: 2, communities: 11 },
  large: { blocksX: 22, blocksY: 16, streets: 10, communities: 100 },
  // ~10,000 grids: the browser benchmark's district (use its layout and grids; its ~10M residents are
  // generated lazily and only if asked for).
  xlarge: { blocksX: 69, blocksY: 48, streets: 30, communities: 1000 },
};

/** Fictional district: 4101 is Zhengzhou, county 99 is unused. */
export const DISTRICT_CODE = '410199';
export const DISTRICT_NAME = '示范区';


/** Share of 综合 grids deliberately given a household count outside 300–500. */
const OUTLIER_SHARE = 0.08;
/** Chance that a community contains a 专属 grid (school or hospital compound). */
const SPECIAL_GRID_CHANCE = 0.15;

export type SpecialCompound = 'school' | 'hospital';

export interface RoadSides {
  south: boolean;
  north: boolean;
  west: boolean;
  east: boolean;
}

/** Everything the per-grid generators need about one grid. */
export interface GridPlan {
  grid: Grid;
  rect: CellRect;
  streetCode: string;
  special: SpecialCompound | null;
  /** Households the grid's buildings should hold (they land a few below it). */
  householdTarget: number;
  hostsCommunityOffice: boolean;
  hostsStreetOffice: boolean;
  /** Which sides of the grid face a road (wider setback there). */
  roadSides: RoadSides;
  addressRoad: string;
  houseNumber: number;
}

export interface CityLayout {
  lattice: Lattice;
  divisions: Division[];
  roads: Road[];
  /** By community code, then sequence. */
  plans: GridPlan[];
}

export function northLat(boundary: MultiPolygon | Polygon): number {
  const rings = boundary.type === 'Polygon' ? [boundary.coordinates] : boundary.coordinates;
  let north = -Infinity;
  for (const polygon of rings) for (const [, lat = -Infinity] of polygon[0] ?? []) north = Math.max(north, lat);
  return north;
}

function cumulative(sizes: readonly number[]): number[] {
  const starts = [0];
  for (const size of sizes) starts.push((starts[starts.length - 1] ?? 0) + size);
  return starts;
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`index ${index} out of range`);
  return item;
}

/** Reading order (north→south, then west→east) for rectangles, by their centres. */
function byReadingOrder(a: CellRect, b: CellRect): number {
  return b.j0 + b.j1 - (a.j0 + a.j1) || a.i0 + a.i1 - (b.i0 + b.i1);
}

/** Split `total` into shares proportional to weights (largest remainder), each between 1 and its cap. */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.max(1, Math.floor((total * w) / sum)));
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = weights.map((_, k) => k).sort((a, b) => at(weights, b) - at(weights, a) || a - b);
  for (let k = 0; left > 0; k = (k + 1) % order.length) {
    const index = at(order, k);
    if (at(shares, index) < at(weights, index)) {
      shares[index] = at(shares, index) + 1;
      left--;
    }
  }
  return shares;
}

function boundaryOf(lattice: Lattice, rect: CellRect): MultiPolygon {
  return { type: 'MultiPolygon', coordinates: [[lattice.rectRing(rect)]] };
}

interface Block {
  rect: CellRect;
  /** Indices of the bounding road lines in block units. */
  bx: number;
  by: number;
}

export function buildLayout(spec: DemoCitySizeSpec, seed: number): CityLayout {
  const rng = rngFor(seed, 'layout');
  const widths = Array.from({ length: spec.blocksX }, () => rng.int(4, 6));
  const heights = Array.from({ length: spec.blocksY }, () => rng.int(3, 5));
  const xs = cumulative(widths);
  const ys = cumulative(heights);
  const nx = at(xs, spec.blocksX);
  const ny = at(ys, spec.blocksY);
  const lattice = new Lattice(nx, ny, rng);

  // Through roads on every block line; the outer ones and every third are 主干道.
  const usedRoadNames = new Set<string>();
  const roads: Road[] = [];
  const verticalNames = xs.map((_, b) => roadName('north-south', b, rng, usedRoadNames));
  const horizontalNames = ys.map((_, b) => roadName('east-west', b, rng, usedRoadNames));
  const kindOf = (b: number, last: number) => (b === 0 || b === last || b % 3 === 0 ? 'primary' : 'secondary');
  xs.forEach((i, b) =>
    roads.push({ code: '', name: at(verticalNames, b), kind: kindOf(b, spec.blocksX), geom: { type: 'LineString', coordinates: lattice.verticalLine(i, 0, ny) } }),
  );
  ys.forEach((j, b) =>
    roads.push({ code: '', name: at(horizontalNames, b), kind: kindOf(b, spec.blocksY), geom: { type: 'LineString', coordinates: lattice.horizontalLine(j, 0, nx) } }),
  );

  const blockCells = (bRect: CellRect): CellRect => ({ i0: at(xs, bRect.i0), j0: at(ys, bRect.j0), i1: at(xs, bRect.i1), j1: at(ys, bRect.j1) });

  const district: Division = {
    code: DISTRICT_CODE,
    name: DISTRICT_NAME,
    level: 'district',
    parentCode: null,
    boundary: boundaryOf(lattice, { i0: 0, j0: 0, i1: nx, j1: ny }),
  };
  const streets: Division[] = [];
  const communities: Division[] = [];
  const plans: GridPlan[] = [];
  const usedPlaceNames = new Set<string>();

  const streetRects = splitRect({ i0: 0, j0: 0, i1: spec.blocksX, j1: spec.blocksY }, spec.streets, rng).sort(byReadingOrder);
  const communityCounts = apportion(
    spec.communities,
    streetRects.map((r) => (r.i1 - r.i0) * (r.j1 - r.j0)),
  );
  let laneCount = 0;

  streetRects.forEach((streetBlocks, streetIndex) => {
    const streetCode = `${DISTRICT_CODE}${String(streetIndex + 1).padStart(3, '0')}`;
    streets.push({ code: streetCode, name: `${placeName(rng, usedPlaceNames)}街道`, level: 'street', parentCode: DISTRICT_CODE, boundary: boundaryOf(lattice, blockCells(streetBlocks)) });

    const communityRects = splitRect(streetBlocks, at(communityCounts, streetIndex), rng).sort(byReadingOrder);
    communityRects.forEach((communityBlocks, communityIndex) => {
      const communityCode = `${streetCode}${String(communityIndex + 1).padStart(3, '0')}`;
      const community: Division = {
        code: communityCode,
        name: `${placeName(rng, usedPlaceNames)}社区`,
        level: 'community',
        parentCode: streetCode,
        boundary: boundaryOf(lattice, blockCells(communityBlocks)),
      };
      communities.push(community);

      const gridRects: { rect: CellRect; block: Block; lanes: RoadSides }[] = [];
      for (let by = communityBlocks.j0; by < communityBlocks.j1; by++) {
        for (let bx = communityBlocks.i0; bx < communityBlocks.i1; bx++) {
          const rect = blockCells({ i0: bx, j0: by, i1: bx + 1, j1: by + 1 });
          const w = rect.i1 - rect.i0;
          const h = rect.j1 - rect.j0;
          const parts = Math.min(Math.floor(w / 2) * Math.floor(h / 2), Math.max(2, Math.min(4, Math.round((w * h) / 6))));
          const pieces = splitRect(rect, parts, rng, 2);
          // A cut that crosses the whole block may carry a residential lane; pieces beside it get a road setback.
          const laneXs = new Set<number>();
          const laneYs = new Set<number>();
          for (let i = rect.i0 + 1; i < rect.i1; i++) {
            if (pieces.some((p) => p.i0 === i) && !pieces.some((p) => p.i0 < i && i < p.i1) && rng.chance(0.5)) laneXs.add(i);
          }
          for (let j = rect.j0 + 1; j < rect.j1; j++) {
            if (pieces.some((p) => p.j0 === j) && !pieces.some((p) => p.j0 < j && j < p.j1) && rng.chance(0.5)) laneYs.add(j);
          }
          const mainName = at(horizontalNames, by);
          for (const i of laneXs) {
            roads.push({ code: '', name: laneName(mainName, ++laneCount, rng), kind: 'residential', geom: { type: 'LineString', coordinates: lattice.verticalLine(i, rect.j0, rect.j1) } });
          }
          for (const j of laneYs) {
            roads.push({ code: '', name: laneName(mainName, ++laneCount, rng), kind: 'residential', geom: { type: 'LineString', coordinates: lattice.horizontalLine(j, rect.i0, rect.i1) } });
          }
          for (const piece of pieces) {
            gridRects.push({
              rect: piece,
              block: { rect, bx, by },
              lanes: { south: laneYs.has(piece.j0), north: laneYs.has(piece.j1), west: laneXs.has(piece.i0), east: laneXs.has(piece.i1) },
            });
          }
        }
      }

      // The same reading-order rule the server applies when it codes a layout (grid-codes.ts).
      const ordered = readingOrder(
        gridRects.map((entry, id) => {
          const geom: Polygon = { type: 'Polygon', coordinates: [lattice.rectRing(entry.rect)] };
          return { ...entry, geom, id, point: bboxCentre(geom) as [number, number], bbox: polygonBbox(geom) };
        }),
      );

      const specialIndex = ordered.length >= 3 && rng.chance(SPECIAL_GRID_CHANCE) ? rng.int(1, ordered.length - 1) : -1;
      ordered.forEach((entry, index) => {
        const sequence = index + 1;
        const { rect, block } = entry;
        const roadSides: RoadSides = {
          south: rect.j0 === block.rect.j0 || entry.lanes.south,
          north: rect.j1 === block.rect.j1 || entry.lanes.north,
          west: rect.i0 === block.rect.i0 || entry.lanes.west,
          east: rect.i1 === block.rect.i1 || entry.lanes.east,
        };
        const address = addressFor(rect, block, verticalNames, horizontalNames);
        plans.push({
          grid: {
            communityCode,
            code: `${communityCode}${String(sequence).padStart(3, '0')}`,
            sequence,
            name: `第${sequence}网格`,
            kind: index === specialIndex ? '专属' : '综合',
            geom: entry.geom,
          },
          rect,
          streetCode,
          special: index === specialIndex ? (rng.chance(0.7) ? 'school' : 'hospital') : null,
          householdTarget: 0,
          hostsCommunityOffice: sequence === 1,
          hostsStreetOffice: sequence === 1 && communityIndex === 0,
          roadSides,
          ...address,
        });
      });
    });
  });

  ensureOneSpecialGrid(plans);
  assignHouseholdTargets(plans, rng);
  roads.forEach((road, index) => (road.code = `R${String(index + 1).padStart(4, '0')}`));
  return { lattice, divisions: [district, ...streets, ...communities], roads, plans };
}

/** Even the small demo gets one 专属 grid so the UI and checks see both kinds. */
function ensureOneSpecialGrid(plans: GridPlan[]): void {
  if (plans.some((plan) => plan.special)) return;
  const candidate = plans.find((plan) => plan.grid.sequence > 1 && !plan.hostsCommunityOffice);
  if (!candidate) return;
  candidate.special = 'school';
  candidate.grid.kind = '专属';
}

function assignHouseholdTargets(plans: GridPlan[], rng: Rng): void {
  const general = plans.filter((plan) => !plan.special);
  const outliers = new Set(rng.shuffle([...general]).slice(0, Math.max(1, Math.round(general.length * OUTLIER_SHARE))));
  for (const plan of plans) {
    if (plan.special) plan.householdTarget = rng.int(8, 40);
    else if (outliers.has(plan)) plan.householdTarget = rng.chance(0.5) ? rng.int(200, 285) : rng.int(525, 620);
    else plan.householdTarget = Math.round(Math.min(495, Math.max(315, rng.normal(410, 45))));
  }
}

/**
 * The compound address: the road on the first block side the grid touches (south, east, west, north),
 * numbered by distance along that road (40 m per number pair), odd on the south/east side of a road
 * and even on the north/west side.
 */
function addressFor(
  rect: CellRect,
  block: Block,
  verticalNames: readonly string[],
  horizontalNames: readonly string[],
): { addressRoad: string; houseNumber: number } {
  const alongX = ((rect.i0 + rect.i1) / 2) * CELL_M;
  const alongY = ((rect.j0 + rect.j1) / 2) * CELL_M;
  const number = (along: number, even: boolean) => 2 * Math.floor(along / 40) + (even ? 2 : 1);
  if (rect.j0 === block.rect.j0) return { addressRoad: at(horizontalNames, block.by), houseNumber: number(alongX, true) };
  if (rect.i1 === block.rect.i1) return { addressRoad: at(verticalNames, block.bx + 1), houseNumber: number(alongY, true) };
  if (rect.i0 === block.rect.i0) return { addressRoad: at(verticalNames, block.bx), houseNumber: number(alongY, false) };
  return { addressRoad: at(horizontalNames, block.by + 1), houseNumber: number(alongX, false) };
}
