/**
 * The demo city on first start: the deterministic synthetic district of scripts/generate (size small),
 * loaded only into an empty database so it never mixes with real data.
 */
import { generateDemoCity } from '../../../scripts/generate/demo-city';
import { loadDemoEvents } from './demo-events.service';
import type { Database } from '../../db/database';
import { createDemoUsers } from '../users/user.service';
import { loadConfig } from '../../config';
import { asSystem } from '../registry/registry.repository';
import { registryCipherFromConfig, type RegistryCipher } from '../registry/registry-crypto';
import {
  insertBuildingsBulk,
  insertDivisions,
  insertGridsBulk,
  insertHouseholdsBulk,
  insertOrganisationsBulk,
  insertPublishedLayouts,
  insertResidentsBulk,
  insertRoads,
  insertStaffBulk,
  isDatabaseEmpty,
  type DemoResidentRow,
} from './demo.repository';

export interface DemoLoadResult {
  loaded: boolean;
  summary: Record<string, number>;
}

type DemoCity = ReturnType<typeof generateDemoCity>;

const KIND: Record<string, string> = { 综合: 'general', 专属: 'dedicated' };
const RELATION: Record<string, string> = { 户主: 'head', 配偶: 'spouse', 子女: 'child', 父母: 'parent', 孙子女: 'grandchild', 儿媳: 'child_in_law', 女婿: 'child_in_law', 兄弟姐妹: 'sibling', 其他: 'other' };
const TAG: Record<string, string> = { 低保: 'low_income', 独居老人: 'elderly_alone', 残疾: 'disabled', 社区矫正: 'community_correction', 刑释解教: 'released_prisoner', 重点青少年: 'at_risk_youth', 严重精神障碍: 'severe_mental_illness' };
const STAFF_ROLE: Record<string, string> = { 网格长: 'grid_leader', 专职网格员: 'full_time_worker', 兼职网格员: 'part_time_worker', 社区值班员: 'community_duty_officer', 街道值班员: 'street_duty_officer' };

export async function loadDemoIfEmpty(
  db: Database,
  size: 'small' | 'medium' | 'large' = 'small',
  cipher: RegistryCipher = registryCipherFromConfig(loadConfig()),
  /** The demo's events lie in the 60 days before it (tests pin it). */
  anchor: Date = new Date(),
): Promise<DemoLoadResult> {
  if (!(await isDatabaseEmpty(db))) return { loaded: false, summary: {} };
  const city = generateDemoCity({ size });
  return db.transaction().execute(async (trx): Promise<DemoLoadResult> => {
    // A concurrent first start may have loaded it meanwhile.
    if (!(await isDatabaseEmpty(trx))) return { loaded: false, summary: {} };
    await insertDivisions(trx, city.divisions.map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, boundary: d.boundary })));
    await insertRoads(trx, city.roads.map((r) => ({ code: r.code, name: r.name, kind: r.kind, geom: r.geom })));
    const communities = city.divisions.filter((d) => d.level === 'community').map((d) => d.code);
    const layoutOf = await insertPublishedLayouts(trx, communities, `${city.referenceDate}T00:00:00+08:00`);
    await insertGridsBulk(
      trx,
      city.grids.map((g) => ({ layoutId: layoutOf.get(g.communityCode) ?? 0, code: g.code, name: g.name, kind: KIND[g.kind] ?? 'general', geom: g.geom })),
    );
    // Demo accounts of every role but admin (README, "Demo accounts"), scoped to the demo's first
    // district/street/community/grid; only here, when the demo city loads into an empty database.
    const firstGrid = city.grids[0];
    const accounts = firstGrid
      ? await createDemoUsers(trx, { district: firstGrid.code.slice(0, 6), street: firstGrid.code.slice(0, 9), community: firstGrid.code.slice(0, 12), grid: firstGrid.code })
      : [];
    const registry = await loadDemoRegistry(trx, city, cipher);
    const events = await loadDemoEvents(trx, { seed: city.seed, anchor, buildings: [...city.buildings] });
    return {
      loaded: true,
      summary: { divisions: city.divisions.length, communities: communities.length, roads: city.roads.length, grids: city.grids.length, accounts: accounts.length, ...registry, events },
    };
  });
}

/** Chunk size for the unnest inserts: large enough to be few statements, small enough for memory. */
const CHUNK = 20_000;

async function inChunks<T>(items: Iterable<T>, fn: (chunk: T[]) => Promise<void>): Promise<number> {
  let chunk: T[] = [];
  let n = 0;
  for (const item of items) {
    chunk.push(item);
    n += 1;
    if (chunk.length === CHUNK) {
      await fn(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await fn(chunk);
  return n;
}

/** Buildings, households, residents (ID numbers and phones encrypted), organisations, staff and roster. */
async function loadDemoRegistry(trx: Database, city: DemoCity, cipher: RegistryCipher): Promise<Record<string, number>> {
  await asSystem(trx);
  const since = city.referenceDate;
  const buildings = await inChunks(city.buildings, (rows) => insertBuildingsBulk(trx, rows.map((b) => ({ ...b, geom: b.footprint }))));
  const households = await inChunks(city.households, (rows) =>
    insertHouseholdsBulk(trx, rows.map((h) => ({ communityCode: h.communityCode, buildingCode: h.buildingCode, unit: String(h.unit), room: h.room, tenure: h.tenure })), since),
  );
  const residents = await inChunks(city.residents, (rows) =>
    insertResidentsBulk(
      trx,
      rows.map((r): DemoResidentRow => {
        // Household key: `${communityCode}-${buildingCode}-${unit}-${room}`.
        const [communityCode = '', buildingCode = '', unit = '', room = ''] = r.householdKey.split('-');
        return {
          communityCode,
          buildingCode,
          unit,
          room,
          name: r.name,
          gender: r.gender,
          birthDate: r.birthDate,
          idNumberEnc: cipher.encrypt(r.idNumber),
          idNumberHmac: cipher.hmac(r.idNumber),
          phoneEnc: r.phone ? cipher.encrypt(r.phone) : null,
          phoneHmac: r.phone ? cipher.hmac(r.phone) : null,
          relation: RELATION[r.relation] ?? 'other',
          registration: r.registration,
          tags: r.tags.map((t) => TAG[t] ?? t).join(','),
        };
      }),
      since,
    ),
  );
  const organisations = await inChunks(city.organisations, (rows) => insertOrganisationsBulk(trx, rows, since));
  await insertDemoStaff(trx, city);
  return { buildings, households, residents, organisations, staff: city.staff.length, shifts: city.roster.length };
}

async function insertDemoStaff(db: Database, city: DemoCity): Promise<void> {
  await insertStaffBulk(
    db,
    city.staff.map((s) => ({ ...s, role: STAFF_ROLE[s.role] ?? 'part_time_worker' })),
    city.assignments.map((a) => ({ ...a, role: STAFF_ROLE[a.role] ?? 'part_time_worker' })),
    city.roster,
  );
}

/**
 * What the dispatch index reads, from a generated city: its divisions, one layout per community
 * published from `effectiveFrom` with its grids, and its staff with their assignments and weekly roster
 * (no registry, no roads, no accounts). Dispatch tests and benchmarks seed a district of a given size
 * with it.
 */
export async function insertDemoDispatchData(db: Database, city: DemoCity, effectiveFrom: string): Promise<void> {
  await insertDivisions(db, city.divisions.map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, boundary: d.boundary })));
  const communities = city.divisions.filter((d) => d.level === 'community').map((d) => d.code);
  const layoutOf = await insertPublishedLayouts(db, communities, effectiveFrom);
  await insertGridsBulk(db, city.grids.map((g) => ({ layoutId: layoutOf.get(g.communityCode) ?? 0, code: g.code, name: g.name, kind: KIND[g.kind] ?? 'general', geom: g.geom })));
  await insertDemoStaff(db, city);
}
