/**
 * Population aggregates for analysts, who may see aggregates only: every count below 5 is shown as
 * "<5", so no small group (one family, one person with a tag) can be singled out. No totals are given,
 * since a total minus the shown cells would reveal a suppressed one. Sensitive special-group tags
 * (community correction, mental illness, …) are not aggregated here at all.
 */
import { shanghaiToday } from '../../contracts/calendar';
import type { PopulationReport, SuppressedCount } from '../../contracts/population';
import type { Principal } from '../../auth/principal';
import { requireInScope } from '../../auth/scope-check';
import type { Database } from '../../db/database';
import { withScope } from '../../db/scoped';
import { countPopulation } from './population.repository';

export const DISCLOSURE_THRESHOLD = 5;

export function suppress(n: number, threshold = DISCLOSURE_THRESHOLD): SuppressedCount {
  return n < threshold ? '<5' : n;
}

export async function populationReport(db: Database, principal: Principal, q: { unit?: 'grid' | 'community'; within?: string }, today = new Date()): Promise<PopulationReport> {
  const unit = q.unit ?? 'grid';
  const within = q.within ?? (principal.scope.all ? '' : undefined);
  // Without a `within`, a scoped analyst gets each of their areas; the counts stay inside their scope.
  const areas = within !== undefined ? [within] : principal.scope.prefixes;
  // Without `within` the areas are the caller's own scope, which cannot be refused.
  for (const area of areas) if (area) requireInScope(principal.scope, area, 'That area', { in: 'querystring', field: 'within' });
  // Ages count on the China-time date: from 00:00 Beijing time (16:00 UTC the day before) a birthday has come.
  const asOf = shanghaiToday(today);
  // The registry tables force Row Level Security; reading counts needs the area in the transaction's scope.
  const counts = await withScope(db, { all: principal.scope.all, prefixes: principal.scope.prefixes }, async (trx) => {
    const all = await Promise.all(areas.map((a) => countPopulation(trx, unit, a, asOf)));
    return all.flat();
  }, principal);
  return {
    unit,
    threshold: DISCLOSURE_THRESHOLD,
    rows: counts.map((c) => ({
      code: c.code,
      residents: suppress(c.residents),
      households: suppress(c.households),
      floating: suppress(c.floating),
      foreign: suppress(c.foreign),
      aged65Plus: suppress(c.aged65Plus),
      lowIncome: suppress(c.lowIncome),
      elderlyAlone: suppress(c.elderlyAlone),
    })),
    note: `Counts below ${DISCLOSURE_THRESHOLD} are shown as "<5"; no totals are given so suppressed cells cannot be derived.`,
  };
}
