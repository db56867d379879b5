/**
 * Deterministic synthetic demo city for Wangge: one fictional district (示范区, 410199) near
 * Zhengzhou with streets, communities, grids, roads, buildings, households, residents,
 * organisations and grid staff. Same seed ⇒ identical output; nothing refers to real persons.
 *
 * @example
 * const city = generateDemoCity({ size: 'small', seed: 42 });
 * for (const resident of city.residents) console.log(resident.name);
 */
import { iterateBuildings, iterateOrganisations } from './buildings';
import { buildLayout, DEMO_CITY_SIZES } from './layout';
import { householdsOfBuilding, newRegistries, REFERENCE_DATE, residentsOfHousehold } from './people';
import { buildStaffing } from './staff';
import { type Building, type DemoCity, type DemoCitySize, type Household, type LazyCollection, type Organisation, type Resident } from './types';

export * from './types';
export { DEMO_CITY_SIZES, DISTRICT_CODE, northLat, type DemoCitySizeSpec } from './layout';
export { REFERENCE_DATE } from './people';

export const DEFAULT_SEED = 20_250_101;

export interface GenerateDemoCityOptions {
  size: DemoCitySize;
  /** Unsigned 32-bit; other numbers are truncated to it. Default DEFAULT_SEED. */
  seed?: number;
}

/** Wrap a generator function so each `for…of` starts a fresh, identical pass. */
function lazy<T>(generate: () => Iterator<T>): LazyCollection<T> {
  return { [Symbol.iterator]: generate };
}

export function generateDemoCity(options: GenerateDemoCityOptions): DemoCity {
  const seed = (options.seed ?? DEFAULT_SEED) >>> 0;
  const layout = buildLayout(DEMO_CITY_SIZES[options.size], seed);
  const staffing = buildStaffing(layout, seed);

  function* buildings(): Generator<Building> {
    for (const placed of iterateBuildings(layout, seed)) yield placed.building;
  }
  function* households(): Generator<Household> {
    for (const placed of iterateBuildings(layout, seed)) yield* householdsOfBuilding(placed, seed);
  }
  function* residents(): Generator<Resident> {
    // One registry per pass: ID numbers and phones are unique within the pass, and every pass
    // visits households in the same order, so every pass yields the same residents.
    const registries = newRegistries();
    for (const household of households()) yield* residentsOfHousehold(household, seed, registries);
  }
  function* organisations(): Generator<Organisation> {
    yield* iterateOrganisations(layout, seed);
  }

  return {
    size: options.size,
    seed,
    referenceDate: REFERENCE_DATE,
    divisions: layout.divisions,
    roads: layout.roads,
    grids: layout.plans.map((plan) => plan.grid),
    buildings: lazy(buildings),
    households: lazy(households),
    residents: lazy(residents),
    organisations: lazy(organisations),
    staff: staffing.staff,
    assignments: staffing.assignments,
    roster: staffing.roster,
  };
}
