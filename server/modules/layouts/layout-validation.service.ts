/**
 * The layout topology report: the repository finds geometric problems in SQL, this turns them into the
 * report — severities, household balance, counts, and whether the layout may be published. Publishing
 * runs it inside its transaction, so it takes any `Kysely<DB>`, a `Transaction` included.
 */
import { performance } from 'node:perf_hooks';
import {
  LAYOUT_VALIDATION_DEFAULTS,
  type GridHouseholds,
  type LayoutProblem,
  type LayoutProblemKind,
  type LayoutValidationOptions,
  type LayoutValidationReport,
  type ValidationNote,
} from '../../contracts/layout-validation';
import type { Database } from '../../db/database';
import { AppError, PATH_ID } from '../../http/errors';
import {
  findLayoutsToValidate,
  findTopologyProblems,
  listGridHouseholds,
  type GridHouseholdCount,
  type LayoutToValidate,
  type TopologyFinding,
  withJitOff,
} from './layout-validation.repository';

/** Defaults for whatever the caller left out; rejects contradictory or negative values (the options are GET …/validation's querystring). */
export function resolveValidationOptions(options: Partial<LayoutValidationOptions> = {}): LayoutValidationOptions {
  const resolved: LayoutValidationOptions = { ...LAYOUT_VALIDATION_DEFAULTS };
  for (const key of Object.keys(LAYOUT_VALIDATION_DEFAULTS) as Array<keyof LayoutValidationOptions>) {
    const value = options[key];
    if (value !== undefined) Object.assign(resolved, { [key]: value });
  }
  const numeric = Object.entries(resolved).filter(([key]) => key !== 'strict');
  const bad = numeric.filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v) || v < 0).map(([k]) => k);
  if (bad.length > 0) throw new AppError('VALIDATION_FAILED', 400, `Validation options must be non-negative numbers: ${bad.join(', ')}.`, { in: 'querystring', field: bad[0], options: bad });
  if (resolved.householdsMin > resolved.householdsMax) {
    throw new AppError('VALIDATION_FAILED', 400, 'householdsMin must not exceed householdsMax.', {
      in: 'querystring',
      field: 'householdsMin',
      householdsMin: resolved.householdsMin,
      householdsMax: resolved.householdsMax,
    });
  }
  return resolved;
}

/** The topology report of one layout; 404 LAYOUT_NOT_FOUND when it does not exist. */
export async function validateLayout(db: Database, layoutId: number, options?: Partial<LayoutValidationOptions>): Promise<LayoutValidationReport> {
  const [report] = await validateLayouts(db, [layoutId], options);
  if (!report) throw new AppError('LAYOUT_NOT_FOUND', 404, `Layout ${layoutId} does not exist.`, { ...PATH_ID, layoutId });
  return report;
}

/**
 * Reports of many layouts (a district) with the same few statements as one: every query is set-based
 * over the id array. Reports come back in the order of `layoutIds`; 404 if any is missing.
 * `summary.timingMs` is then the time of the whole batch.
 */
export async function validateLayouts(db: Database, layoutIds: readonly number[], options?: Partial<LayoutValidationOptions>): Promise<LayoutValidationReport[]> {
  const started = performance.now();
  const opts = resolveValidationOptions(options);
  const ids = [...new Set(layoutIds)];
  if (ids.length === 0) return [];

  // One snapshot for all statements: a plain request gets a read-only repeatable-read transaction;
  // publishing passes its own transaction (which holds the locks that matter).
  const gather = (trx: Database) =>
    withJitOff(trx, async () => {
      const layouts = await findLayoutsToValidate(trx, ids);
      const missing = ids.filter((id) => !layouts.some((l) => l.layoutId === id));
      if (missing.length > 0) {
        // Routes validate one layout, their path id; several ids come only from scripts (the bench).
        throw new AppError('LAYOUT_NOT_FOUND', 404, `Layout ${missing.join(', ')} does not exist.`, { ...PATH_ID, ...(missing.length === 1 ? { layoutId: missing[0] } : { layoutIds: missing }) });
      }
      return { layouts, findings: await findTopologyProblems(trx, ids, opts), households: await listGridHouseholds(trx, ids, opts) };
    });
  const { layouts, findings, households } = db.isTransaction
    ? await gather(db)
    : await db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(gather);
  const timingMs = Math.round((performance.now() - started) * 10) / 10;

  const findingsByLayout = groupBy(findings, (f) => f.layoutId);
  const householdsByLayout = groupBy(households.grids, (h) => h.layoutId);
  const byId = new Map(layouts.map((l) => [l.layoutId, l]));
  return layoutIds.flatMap((id) => {
    const layout = byId.get(id);
    if (!layout) return [];
    const balance = householdBalance(households.registry, householdsByLayout.get(id) ?? [], opts);
    return [buildReport(layout, findingsByLayout.get(id) ?? [], balance, opts, timingMs)];
  });
}

const KIND_ORDER: readonly LayoutProblemKind[] = ['overlap', 'outside', 'gap', 'sliver', 'multipart', 'households'];

function buildReport(
  layout: LayoutToValidate,
  findings: TopologyFinding[],
  balance: HouseholdBalance,
  opts: LayoutValidationOptions,
  timingMs: number,
): LayoutValidationReport {
  const notes: ValidationNote[] = [];
  if (!layout.hasBoundary) {
    notes.push({
      code: 'COMMUNITY_HAS_NO_BOUNDARY',
      message: `Community ${layout.communityCode} has no boundary: gaps and parts outside it were not checked.`,
    });
  }
  if (balance.unknown) notes.push({ code: 'HOUSEHOLDS_UNKNOWN', message: balance.unknown });

  const problems: LayoutProblem[] = [...findings.map((f) => withSeverity(f, opts.strict)), ...balance.problems];
  problems.sort((a, b) => severityRank(a) - severityRank(b) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));

  const count = (kind: LayoutProblemKind): number => problems.filter((p) => p.kind === kind).length;
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const overlaps = count('overlap');
  const outside = count('outside');
  return {
    layoutId: layout.layoutId,
    communityCode: layout.communityCode,
    gridCount: layout.gridCount,
    options: opts,
    summary: {
      overlaps,
      gaps: layout.hasBoundary ? count('gap') : null,
      outside,
      slivers: count('sliver'),
      multipart: count('multipart'),
      households: balance.unknown ? null : count('households'),
      errors,
      warnings,
      // Overlaps and outside parts are always errors; strict mode adds gaps (errors there) and warnings.
      publishable: opts.strict ? errors === 0 && warnings === 0 : overlaps === 0 && outside === 0,
      timingMs,
    },
    problems,
    households: balance.grids,
    notes,
  };
}

function withSeverity(finding: TopologyFinding, strict: boolean): LayoutProblem {
  const { layoutId: _layoutId, ...rest } = finding;
  switch (rest.kind) {
    case 'overlap':
    case 'outside':
      return { ...rest, severity: 'error' };
    case 'gap':
      return { ...rest, severity: strict ? 'error' : 'warning' };
    case 'sliver':
    case 'multipart':
      return { ...rest, severity: 'warning' };
  }
}

const severityRank = (p: LayoutProblem): number => (p.severity === 'error' ? 0 : 1);

interface HouseholdBalance {
  /** Why counts are unknown, or null when they are known. */
  unknown: string | null;
  grids: GridHouseholds[];
  problems: LayoutProblem[];
}

/**
 * Households per grid against the target range. Counts are unknown without a registry, and also when
 * no household is linked to any grid of the layout: households are linked to the grids of the published
 * layout, so a fresh draft would otherwise show every grid as empty. Unknown grids are no problem; with
 * counts, grids out of range are warnings located by the grid's own geometry.
 */
function householdBalance(registry: boolean, rows: GridHouseholdCount[], opts: LayoutValidationOptions): HouseholdBalance {
  const linked = rows.some((r) => (r.households ?? 0) > 0);
  const unknown = !registry
    ? 'There is no household registry yet: household counts per grid are unknown.'
    : !linked
      ? 'No household of the registry is linked to a grid of this layout yet (households follow the published layout): counts are unknown.'
      : null;
  if (unknown) {
    return { unknown, grids: rows.map((r) => ({ gridId: r.gridId, gridCode: r.gridCode, households: null, status: 'unknown' })), problems: [] };
  }
  const grids: GridHouseholds[] = [];
  const problems: LayoutProblem[] = [];
  for (const r of rows) {
    const n = r.households ?? 0;
    const status = n < opts.householdsMin ? 'under' : n > opts.householdsMax ? 'over' : 'ok';
    grids.push({ gridId: r.gridId, gridCode: r.gridCode, households: n, status });
    if (status !== 'ok' && r.geometry) {
      problems.push({ kind: 'households', severity: 'warning', gridIds: [r.gridId], gridCodes: [r.gridCode], geometry: r.geometry, households: n, status });
    }
  }
  return { unknown: null, grids, problems };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
