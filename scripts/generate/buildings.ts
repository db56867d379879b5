/**
 * Buildings and organisations, planned per grid from the grid's own random stream (so any grid can
 * be regenerated alone). Residential buildings stand in rows facing south (the Chinese norm), with
 * sunlight spacing that grows with height; the household total of a grid is steered to its target.
 */
import type { Point, Polygon, Position } from 'geojson';
import { CELL_M, type Lattice, round7 } from './geometry';
import { type CityLayout, DISTRICT_NAME, type GridPlan } from './layout';
import { drawShop } from './names';
import { type Rng, rngFor } from './random';
import { type Building, type BuildingUse, type Division, type Organisation } from './types';

interface Style {
  name: '多层' | '小高层' | '高层';
  depth: number;
  /** North–south gap between rows (m): sunlight spacing. */
  gap: number;
  unitLength: number;
  floors: readonly [number, number];
  units: readonly [number, number];
  doors: readonly [number, number];
}

const STYLES: readonly Style[] = [
  { name: '多层', depth: 12, gap: 20, unitLength: 18, floors: [5, 7], units: [2, 3], doors: [2, 2] },
  { name: '小高层', depth: 14, gap: 26, unitLength: 22, floors: [9, 12], units: [2, 2], doors: [2, 3] },
  { name: '高层', depth: 18, gap: 36, unitLength: 24, floors: [18, 32], units: [1, 2], doors: [3, 4] },
];
/** East–west gap between buildings in a row (m). */
const COLUMN_GAP = 12;
/** Setback from a road-facing grid edge, and from an internal grid edge (m). */
const ROAD_SETBACK = 15;
const INNER_SETBACK = 8;

/** One building before codes are assigned. Coordinates are nominal metres (see geometry.ts). */
export interface BuildingSpec {
  use: BuildingUse;
  floors: number;
  units: number;
  doors: number;
  /** Lowest floor with flats (2 for 底商 buildings); 0 when there are none. */
  firstResidentialFloor: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Proper name for compound or office buildings ('教学楼', '社区党群服务中心'). */
  label: string | null;
  /** Organisation housed here, if any. */
  agency: 'community' | 'street' | 'police' | 'kindergarten' | null;
}

export interface PlacedBuilding {
  plan: GridPlan;
  spec: BuildingSpec;
  building: Building;
}

export function householdsIn(spec: BuildingSpec): number {
  if (spec.firstResidentialFloor === 0) return 0;
  return (spec.floors - spec.firstResidentialFloor + 1) * spec.units * spec.doors;
}

interface Slot {
  x: number;
  y: number;
  faceRoad: boolean;
}

function usableRect(plan: GridPlan): { x0: number; y0: number; x1: number; y1: number } {
  const { rect, roadSides } = plan;
  return {
    x0: rect.i0 * CELL_M + (roadSides.west ? ROAD_SETBACK : INNER_SETBACK),
    x1: rect.i1 * CELL_M - (roadSides.east ? ROAD_SETBACK : INNER_SETBACK),
    y0: rect.j0 * CELL_M + (roadSides.south ? ROAD_SETBACK : INNER_SETBACK),
    y1: rect.j1 * CELL_M - (roadSides.north ? ROAD_SETBACK : INNER_SETBACK),
  };
}

/** Row/column slot centres for a style, spread evenly over the usable rectangle. */
function slotsFor(plan: GridPlan, style: Style): { slots: Slot[]; slotLength: number } {
  const area = usableRect(plan);
  const width = area.x1 - area.x0;
  const height = area.y1 - area.y0;
  const slotLength = Math.min(width, style.unitLength * style.units[1]);
  const rows = Math.max(1, Math.floor((height + style.gap) / (style.depth + style.gap)));
  const cols = Math.max(1, Math.floor((width + COLUMN_GAP) / (slotLength + COLUMN_GAP)));
  const rowPitch = rows > 1 ? (height - style.depth) / (rows - 1) : 0;
  const colPitch = cols > 1 ? (width - slotLength) / (cols - 1) : 0;
  const slots: Slot[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = rows > 0 && cols > 1 ? area.x0 + slotLength / 2 + c * colPitch : (area.x0 + area.x1) / 2;
      const y = rows > 1 ? area.y0 + style.depth / 2 + r * rowPitch : (area.y0 + area.y1) / 2;
      const faceRoad = (r === 0 && plan.roadSides.south) || (r === rows - 1 && plan.roadSides.north);
      slots.push({ x, y, faceRoad });
    }
  }
  return { slots, slotLength };
}

function building(slot: Slot, length: number, depth: number, fields: Omit<BuildingSpec, 'x0' | 'y0' | 'x1' | 'y1'>): BuildingSpec {
  return { ...fields, x0: slot.x - length / 2, x1: slot.x + length / 2, y0: slot.y - depth / 2, y1: slot.y + depth / 2 };
}

function planCompound(plan: GridPlan, rng: Rng): BuildingSpec[] {
  const style = STYLES[0] as Style;
  const { slots, slotLength } = slotsFor(plan, style);
  rng.shuffle(slots);
  const labels = plan.special === 'school' ? ['教学楼', '综合楼', '实验楼', '食堂', '体育馆'] : ['门诊楼', '住院楼', '医技楼', '行政楼', '后勤楼'];
  const specs: BuildingSpec[] = [];
  const publicCount = Math.min(slots.length - 1, rng.int(2, 4));
  slots.slice(0, publicCount).forEach((slot, k) => {
    specs.push(building(slot, slotLength, style.depth, { use: 'public', floors: rng.int(2, 6), units: 0, doors: 0, firstResidentialFloor: 0, label: labels[k] ?? null, agency: null }));
  });
  const dorm = slots[publicCount];
  if (dorm) {
    // Staff dormitory: a handful of households, deliberately far below the 300–500 norm.
    const units = Math.max(1, Math.min(3, Math.round(plan.householdTarget / 10)));
    specs.push(building(dorm, Math.min(slotLength, units * style.unitLength), style.depth, { use: 'residential', floors: 5, units, doors: 2, firstResidentialFloor: 1, label: '职工宿舍', agency: null }));
  }
  return specs;
}

function planGeneral(plan: GridPlan, rng: Rng): BuildingSpec[] {
  const startStyle = rng.chance(0.5) ? 0 : rng.chance(0.5) ? 1 : 2;
  const reserved: BuildingSpec['agency'][] = [];
  if (plan.hostsCommunityOffice) reserved.push('community');
  if (plan.hostsStreetOffice) reserved.push('street', 'police');
  if (rng.chance(0.12)) reserved.push('kindergarten');

  // Walk up the styles until the slots can hold the target; the densest style is used regardless.
  let style = STYLES[startStyle] as Style;
  let layout = slotsFor(plan, style);
  for (let k = startStyle; k < STYLES.length; k++) {
    style = STYLES[k] as Style;
    layout = slotsFor(plan, style);
    const residentialSlots = layout.slots.length - reserved.length - 1;
    const maxPerBuilding = style.floors[1] * style.units[1] * style.doors[1];
    if (residentialSlots * maxPerBuilding >= plan.householdTarget) break;
  }
  const { slots, slotLength } = layout;
  // Road-facing slots first, so offices and shops line the street.
  const ordered = [...rng.shuffle(slots.filter((s) => s.faceRoad)), ...rng.shuffle(slots.filter((s) => !s.faceRoad))];
  const specs: BuildingSpec[] = [];
  const officeLabels = { community: '社区党群服务中心', street: '街道办事处', police: '派出所', kindergarten: '幼儿园' } as const;
  for (const agency of reserved) {
    const slot = ordered.shift();
    if (!slot || !agency) break;
    specs.push(building(slot, Math.min(slotLength, 40), 14, { use: 'public', floors: rng.int(2, 5), units: 0, doors: 0, firstResidentialFloor: 0, label: officeLabels[agency], agency }));
  }
  if (ordered.length > 2 && ordered[0]?.faceRoad && rng.chance(0.6)) {
    const slot = ordered.shift() as Slot;
    specs.push(building(slot, slotLength, Math.min(style.depth, 14), { use: 'commercial', floors: rng.int(2, 4), units: 0, doors: 0, firstResidentialFloor: 0, label: null, agency: null }));
  }

  // Size each building near target / slots so the households spread over the grid, then top up or trim.
  const residential: BuildingSpec[] = [];
  let total = 0;
  const perSlot = plan.householdTarget / Math.max(1, ordered.length);
  while (ordered.length > 0 && total < plan.householdTarget - 4) {
    const slot = ordered.shift() as Slot;
    const units = Math.min(rng.int(style.units[0], style.units[1]), Math.max(1, Math.floor(slotLength / style.unitLength)));
    const doors = rng.int(style.doors[0], style.doors[1]);
    const mixed = slot.faceRoad && rng.chance(0.35);
    const firstResidentialFloor = mixed ? 2 : 1;
    const idealFloors = Math.round(perSlot / (units * doors)) + rng.int(-1, 1);
    let floors = Math.min(style.floors[1], Math.max(style.floors[0], idealFloors));
    const room = Math.floor((plan.householdTarget - total) / (units * doors));
    floors = Math.min(floors, room + firstResidentialFloor - 1);
    if (floors < Math.max(2, firstResidentialFloor)) break;
    const spec = building(slot, units * style.unitLength, style.depth, { use: mixed ? 'mixed' : 'residential', floors, units, doors, firstResidentialFloor, label: null, agency: null });
    residential.push(spec);
    total += householdsIn(spec);
  }
  // Top up: add storeys round-robin until the target is met or every building is at the style's height limit.
  for (let grew = true; grew && total < plan.householdTarget - 4; ) {
    grew = false;
    for (const spec of residential) {
      const step = spec.units * spec.doors;
      if (spec.floors < style.floors[1] && total + step <= plan.householdTarget) {
        spec.floors++;
        total += step;
        grew = true;
      }
    }
  }
  specs.push(...residential);
  // Leftover slots: some shops or nothing (green space, parking).
  for (const slot of ordered) {
    if (rng.chance(0.2)) specs.push(building(slot, Math.min(slotLength, 36), 12, { use: 'commercial', floors: rng.int(1, 3), units: 0, doors: 0, firstResidentialFloor: 0, label: null, agency: null }));
  }
  return specs;
}

/** Buildings of one grid in reading order (north→south, then west→east). */
export function planGridBuildings(plan: GridPlan, seed: number): BuildingSpec[] {
  const rng = rngFor(seed, 'buildings', plan.grid.code);
  const specs = plan.special ? planCompound(plan, rng) : planGeneral(plan, rng);
  return specs.sort((a, b) => b.y0 + b.y1 - (a.y0 + a.y1) || a.x0 + a.x1 - (b.x0 + b.x1));
}

/** Every building in community-code order; codes run 00001… within each community. */
export function* iterateBuildings(layout: CityLayout, seed: number): Generator<PlacedBuilding> {
  let community = '';
  let counter = 0;
  for (const plan of layout.plans) {
    if (plan.grid.communityCode !== community) {
      community = plan.grid.communityCode;
      counter = 0;
    }
    const compound = `${plan.addressRoad}${plan.houseNumber}号`;
    let number = 0;
    for (const spec of planGridBuildings(plan, seed)) {
      counter++;
      const code = String(counter).padStart(5, '0');
      let name: string;
      let address: string;
      if (plan.special) {
        name = spec.label ?? `${counter}号楼`;
        address = `${compound}${name}`;
      } else {
        number++;
        name = spec.label ?? `${number}号楼`;
        address = `${compound}院${number}号楼`;
      }
      yield {
        plan,
        spec,
        building: {
          communityCode: plan.grid.communityCode,
          gridCode: plan.grid.code,
          code,
          name,
          address,
          use: spec.use,
          floors: spec.floors,
          units: spec.units,
          footprint: layout.lattice.footprint(spec.x0, spec.y0, spec.x1, spec.y1),
        },
      };
    }
  }
}

/** A point inside a footprint at fraction t along its long (first) edge, on the centre line. */
function pointInFootprint(footprint: Polygon, t: number): Point {
  const [a, b, c, d] = (footprint.coordinates[0] ?? []) as (Position | undefined)[];
  if (!a || !b || !c || !d) throw new RangeError('footprint needs four corners');
  const lerp = (p: Position, q: Position, s: number): Position => [(p[0] ?? 0) + ((q[0] ?? 0) - (p[0] ?? 0)) * s, (p[1] ?? 0) + ((q[1] ?? 0) - (p[1] ?? 0)) * s];
  const [x = 0, y = 0] = lerp(lerp(a, d, 0.5), lerp(b, c, 0.5), t);
  return { type: 'Point', coordinates: [round7(x), round7(y)] };
}

function compoundOutline(lattice: Lattice, plan: GridPlan): Polygon {
  const inset = 10;
  const { rect } = plan;
  return lattice.outline(rect.i0 * CELL_M + inset, rect.j0 * CELL_M + inset, rect.i1 * CELL_M - inset, rect.j1 * CELL_M - inset);
}

/** Shops, schools, hospitals and agencies, in building order; codes run O0001… within each community. */
export function* iterateOrganisations(layout: CityLayout, seed: number): Generator<Organisation> {
  const names = new Map<string, Division>(layout.divisions.map((d) => [d.code, d]));
  const stem = (code: string) => (names.get(code)?.name ?? '').replace(/(社区|街道)$/, '');
  let community = '';
  let counter = 0;
  let compoundCount = 0;
  const next = (communityCode: string) => {
    if (communityCode !== community) {
      community = communityCode;
      counter = 0;
    }
    counter++;
    return `${communityCode}O${String(counter).padStart(4, '0')}`;
  };
  let lastCompound = '';
  for (const { plan, spec, building } of iterateBuildings(layout, seed)) {
    const rng = rngFor(seed, 'organisations', plan.grid.code, building.code);
    const base = { communityCode: plan.grid.communityCode, gridCode: plan.grid.code, address: building.address };
    if (plan.special && lastCompound !== plan.grid.code) {
      lastCompound = plan.grid.code;
      compoundCount++;
      const school = plan.special === 'school';
      const level = rng.chance(0.6) ? '小学' : '中学';
      yield {
        ...base,
        code: next(plan.grid.communityCode),
        name: school ? `${DISTRICT_NAME}${stem(plan.grid.communityCode)}${level}` : compoundCount === 1 ? `${DISTRICT_NAME}人民医院` : `${DISTRICT_NAME}${stem(plan.grid.communityCode)}医院`,
        kind: school ? 'school' : 'hospital',
        category: school ? level : '综合医院',
        employees: school ? rng.int(60, 180) : rng.int(300, 900),
        address: `${plan.addressRoad}${plan.houseNumber}号`,
        geom: compoundOutline(layout.lattice, plan),
      };
    }
    if (spec.agency) {
      const street = stem(plan.streetCode);
      const agency = {
        community: { name: `${stem(plan.grid.communityCode)}社区居民委员会`, category: '社区居委会', kind: 'agency' as const, employees: rng.int(8, 15) },
        street: { name: `${street}街道办事处`, category: '街道办事处', kind: 'agency' as const, employees: rng.int(80, 150) },
        police: { name: `${DISTRICT_NAME}公安分局${street}派出所`, category: '派出所', kind: 'agency' as const, employees: rng.int(40, 90) },
        kindergarten: { name: `${stem(plan.grid.communityCode)}幼儿园`, category: '幼儿园', kind: 'school' as const, employees: rng.int(10, 30) },
      }[spec.agency];
      yield { ...base, ...agency, code: next(plan.grid.communityCode), geom: pointInFootprint(building.footprint, 0.5) };
    }
    const shops = spec.use === 'commercial' ? rng.int(3, 8) : spec.use === 'mixed' ? rng.int(2, 4) : 0;
    for (let k = 0; k < shops; k++) {
      const shop = drawShop(rng);
      yield { ...base, ...shop, kind: 'shop', code: next(plan.grid.communityCode), geom: pointInFootprint(building.footprint, (k + 0.5) / shops) };
    }
  }
}
