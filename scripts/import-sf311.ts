/**
 * Real data for events: San Francisco 311 cases (../shared/data/real/sf311_cases_sample_2008_2016.geojson)
 * imported against grids built from SF's 2010 census tracts
 * (../shared/data/real/sf_analysis_neighborhoods_by_tract_2010.geojson), in a fictional hierarchy:
 * district 990100 → one street 990100001 → one community per analysis neighbourhood → one grid per tract.
 * The data stays in ../shared/data; nothing is copied into the repository.
 *
 * `npx tsx scripts/import-sf311.ts` imports into a scratch database (created and dropped on the configured
 * server, so the fictional divisions never land in yours) and prints the per-grid KPIs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { PROJECT_ROOT } from '../server/config';
import type { Database } from '../server/db/database';
import type { KpiRow } from '../server/contracts/events';
import { computeKpis } from '../server/modules/events/event-report.repository';
import { importHistoricalEvents, type HistoricalEvent } from '../server/modules/events/event-import';
import { withScratchDatabase } from './bench/bench-kit';

export const SF_DATA_DIR = path.resolve(PROJECT_ROOT, '../shared/data/real');
export const SF_CASES = path.join(SF_DATA_DIR, 'sf311_cases_sample_2008_2016.geojson');
export const SF_TRACTS = path.join(SF_DATA_DIR, 'sf_analysis_neighborhoods_by_tract_2010.geojson');
export const SF_DISTRICT = '990100';
export const SF_STREET = '990100001';

/** SF 311 categories → our sub-types (the closest governance category). */
export const SF_CATEGORY_MAP: Readonly<Record<string, string>> = {
  'Street and Sidewalk Cleaning': 'environment.street_cleaning',
  'Graffiti Public Property': 'environment.graffiti',
  'Graffiti Private Property': 'environment.graffiti',
  'Illegal Postings': 'environment.graffiti',
  'Abandoned Vehicle': 'environment.abandoned_vehicle',
  'Noise Report': 'environment.noise',
  'Tree Maintenance': 'environment.greenery',
  'Rec and Park Requests': 'environment.greenery',
  'Streetlights': 'facility.street_light',
  'Street Defects': 'facility.road',
  'Sidewalk or Curb': 'facility.road',
  'Blocked Street or SideWalk': 'facility.road',
  'Sewer Issues': 'facility.drain',
  'Catch Basin Maintenance': 'facility.drain',
  'Sign Repair': 'facility.sign',
  'Temporary Sign Request': 'facility.sign',
  'Color Curb': 'facility.sign',
  'Litter Receptacles': 'facility.litter_bin',
  'Damaged Property': 'facility.other',
  'Residential Building Request': 'safety.building',
  'SFHA Requests': 'safety.building',
};

/** 311 intake sources → our channels. */
function channelOf(source: string | null): HistoricalEvent['channel'] {
  if (source === 'Voice In') return 'hotline';
  if (source === 'Integrated Agency' || source === 'Other Department') return 'assigned';
  return 'resident';
}

/** Communities per neighbourhood, grids per tract, one published layout per community (from 2000). */
export async function buildSfGrids(db: Database): Promise<{ communities: number; grids: number }> {
  const tracts = JSON.parse(readFileSync(SF_TRACTS, 'utf8')) as { features: Array<{ properties: { nhood: string; tractce10: string }; geometry: unknown }> };
  await sql`INSERT INTO divisions (code, level, name) VALUES (${SF_DISTRICT}, 'district', '旧金山示范区') ON CONFLICT DO NOTHING`.execute(db);
  await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES (${SF_STREET}, 'street', '旧金山示范街道', ${SF_DISTRICT}) ON CONFLICT DO NOTHING`.execute(db);
  await sql`DROP TABLE IF EXISTS sf_tracts_src`.execute(db);
  await sql`CREATE TABLE sf_tracts_src (nhood text, tract text, geom geometry)`.execute(db);
  await sql`INSERT INTO sf_tracts_src (nhood, tract, geom)
            SELECT n, tr, ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)), 3)
            FROM unnest(${tracts.features.map((f) => f.properties.nhood)}::text[], ${tracts.features.map((f) => f.properties.tractce10)}::text[],
                        ${tracts.features.map((f) => JSON.stringify(f.geometry))}::text[]) AS x(n, tr, g)`.execute(db);
  const { rows } = await sql<{ communities: number; grids: number }>`
    WITH n AS (
      SELECT nhood, ${SF_STREET} || lpad((row_number() OVER (ORDER BY nhood))::text, 3, '0') AS code
      FROM (SELECT DISTINCT nhood FROM sf_tracts_src) d
    ),
    div AS (
      INSERT INTO divisions (code, level, name, parent_code, geom)
      SELECT n.code, 'community', n.nhood, ${SF_STREET}, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(t.geom)), 3))
      FROM n JOIN sf_tracts_src t USING (nhood) GROUP BY n.code, n.nhood
      RETURNING code
    ),
    lay AS (
      INSERT INTO layouts (community_code, status, name, effective_from, published_at)
      SELECT code, 'published', 'census tracts 2010', '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z' FROM div
      RETURNING id, community_code
    ),
    g AS (
      INSERT INTO grids (layout_id, code, name, geom)
      SELECT lay.id, n.code || lpad((row_number() OVER (PARTITION BY n.code ORDER BY t.tract))::text, 3, '0'), n.nhood || ' ' || t.tract, t.geom
      FROM sf_tracts_src t JOIN n USING (nhood) JOIN lay ON lay.community_code = n.code
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM div)::int AS communities, (SELECT count(*) FROM g)::int AS grids`.execute(db);
  await sql`DROP TABLE sf_tracts_src`.execute(db);
  return rows[0] ?? { communities: 0, grids: 0 };
}

interface SfCase {
  properties: { caseid: number; opened: string; closed: string | null; category: string; request_type: string | null; address: string | null; source: string | null };
  geometry: { coordinates: [number, number] } | null;
}

/** Import the cases with their real opened/closed times (SF local time → instants). */
export async function importSf311(db: Database): Promise<{ imported: number; routed: number; skipped: number }> {
  const cases = (JSON.parse(readFileSync(SF_CASES, 'utf8')) as { features: SfCase[] }).features.filter((f) => f.geometry && f.properties.opened);
  const { rows: times } = await sql<{ opened: Date; closed: Date | null }>`
    SELECT (o AT TIME ZONE 'America/Los_Angeles') AS opened, (c AT TIME ZONE 'America/Los_Angeles') AS closed
    FROM unnest(${cases.map((f) => f.properties.opened)}::timestamp[], ${cases.map((f) => f.properties.closed)}::timestamp[]) WITH ORDINALITY AS x(o, c, i) ORDER BY i`.execute(db);
  const events: HistoricalEvent[] = cases.map((f, i) => {
    const p = f.properties;
    const t = times[i]!;
    // A close before the open (data-entry errors) is treated as unclosed.
    const closed = t.closed && t.closed >= t.opened ? t.closed : null;
    return {
      categoryCode: SF_CATEGORY_MAP[p.category] ?? 'other.other',
      description: `SF311 #${p.caseid}: ${p.category}${p.request_type ? ` / ${p.request_type}` : ''}`,
      channel: channelOf(p.source),
      reportedAt: t.opened,
      closedAt: closed,
      lon: f.geometry!.coordinates[0],
      lat: f.geometry!.coordinates[1],
      address: p.address,
    };
  });
  const result = await importHistoricalEvents(db, events);
  return { ...result, skipped: 0 };
}

/** KPIs per tract grid over the whole sample (2008–2016), ranked where a grid has ≥ minEvents. */
export async function sfKpis(db: Database, minEvents = 10): Promise<KpiRow[]> {
  return computeKpis(db, { from: new Date('2008-01-01T00:00:00Z'), to: new Date('2017-01-01T00:00:00Z'), by: 'grid', minEvents, prefixes: null, scope: SF_DISTRICT });
}

export function formatKpiTable(rows: readonly KpiRow[], top = 15): string {
  const head = 'rank  grid             name                               events closed on-time  closure  mean h   p90 h  rework';
  const lines = rows.slice(0, top).map((r) =>
    [
      String(r.rank ?? '-').padEnd(5), r.key.padEnd(16), (r.name ?? '').slice(0, 34).padEnd(34), String(r.events).padStart(6), String(r.closed).padStart(6),
      `${(r.onTimeClosureRate * 100).toFixed(1)}%`.padStart(8), `${(r.closureRate * 100).toFixed(1)}%`.padStart(8),
      (r.meanHoursToClose?.toFixed(1) ?? '-').padStart(7), (r.p90HoursToClose?.toFixed(1) ?? '-').padStart(7), `${(r.reworkRate * 100).toFixed(1)}%`.padStart(7),
    ].join(' '),
  );
  return [head, ...lines].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(SF_CASES) || !existsSync(SF_TRACTS)) {
    console.log(`skipping: ${SF_DATA_DIR} has no SF311 cases or tracts (they live in ../shared/data)`);
    return;
  }
  await withScratchDatabase('sf311', async (handle) => {
    const grids = await buildSfGrids(handle.db);
    const imported = await importSf311(handle.db);
    console.log(`built ${grids.communities} communities, ${grids.grids} grids; imported ${imported.imported} cases (${imported.routed} routed to a grid)`);
    console.log(formatKpiTable(await sfKpis(handle.db)));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
