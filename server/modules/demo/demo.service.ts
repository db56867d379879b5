/**
 * The demo city on first start: the deterministic synthetic district of scripts/generate (size small),
 * loaded only into an empty database so it never mixes with real data.
 */
import { generateDemoCity } from '../../../scripts/generate/demo-city';
import type { Database } from '../../db/database';
import { insertDivisions, insertGridsBulk, insertPublishedLayouts, insertRoads, isDatabaseEmpty } from './demo.repository';

export interface DemoLoadResult {
  loaded: boolean;
  summary: Record<string, number>;
}

const KIND: Record<string, string> = { 综合: 'general', 专属: 'dedicated' };

export async function loadDemoIfEmpty(db: Database, size: 'small' | 'medium' | 'large' = 'small'): Promise<DemoLoadResult> {
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
    return {
      loaded: true,
      summary: { divisions: city.divisions.length, communities: communities.length, roads: city.roads.length, grids: city.grids.length },
    };
  });
}
