/**
 * Layouts of a community: drafts (empty or copied from the published one), import/export as GeoJSON,
 * code assignment, and publishing, which archives the previous layout in the same transaction.
 */
import type { GridInput } from '../../contracts/grid';
import type { AssignCodesResult, Layout, LayoutCollection } from '../../contracts/layout';
import type { Database } from '../../db/database';
import type { Scope } from '../../auth/principal';
import { requireInScope } from '../../auth/scope-check';
import { AppError, PATH_CODE, PATH_ID } from '../../http/errors';
import { SYSTEM_ACTOR, writeAudit, type AuditActor } from '../audit/audit.service';
import { assignGridCodes } from '../grids/grid-codes';
import { prepareGridGeometry } from '../grids/grid-geometry.service';
import { insertGrid, listLayoutGrids, toGridFeature } from '../grids/grid.repository';
import { RESERVED_GRID_PROPERTIES } from '../../contracts/grid';
import type { LayoutValidationReport } from '../../contracts/layout-validation';
import type { LayoutImpact } from '../../contracts/registry';
import { listLayoutImpact, rederiveCommunity, type RederiveCounts } from '../registry/registry.repository';
import { validateLayout } from './layout-validation.service';
import {
  copyGrids,
  deleteLayout,
  findCommunity,
  findLayout,
  findPublishedLayoutId,
  highestCodeSequence,
  insertDraftLayout,
  listCodableGrids,
  listLayouts,
  lockCommunityForPublish,
  setGridCodes,
  switchPublishedLayout,
} from './layout.repository';

// Every route of this service names its community in the path (`/communities/:code/…`, also the
// exchange import: PATH_CODE) and its layout as the path id (`/layouts/:id/…`, also the exchange
// export: PATH_ID).

async function requireCommunity(db: Database, code: string, scope: Scope): Promise<void> {
  const division = await findCommunity(db, code);
  if (!division) throw new AppError('DIVISION_NOT_FOUND', 404, `Community ${code} does not exist.`, { ...PATH_CODE, code });
  if (division.level !== 'community') {
    throw new AppError('DIVISION_INVALID', 422, `${code} is a ${division.level}; layouts belong to communities (社区/村).`, { ...PATH_CODE, code, level: division.level });
  }
  requireInScope(scope, code, `Community ${code}`, PATH_CODE);
}

async function requireLayout(db: Database, id: number, lock?: 'update'): Promise<Layout> {
  const layout = await findLayout(db, id, lock);
  if (!layout) throw new AppError('LAYOUT_NOT_FOUND', 404, `Layout ${id} does not exist.`, { ...PATH_ID, layoutId: id });
  return layout;
}

/** For changes: the layout's community must lie inside the caller's scope. */
async function requireLayoutInScope(db: Database, id: number, scope: Scope, lock?: 'update'): Promise<Layout> {
  const layout = await requireLayout(db, id, lock);
  requireInScope(scope, layout.communityCode, `Layout ${id}`, PATH_ID);
  return layout;
}

/** For reads: published and archived layouts are public history; drafts stay inside their scope. */
export async function requireReadableLayout(db: Database, id: number, scope: Scope): Promise<Layout> {
  const layout = await requireLayout(db, id);
  if (layout.status === 'draft') requireInScope(scope, layout.communityCode, `Draft layout ${id}`, PATH_ID);
  return layout;
}

function requireDraft(layout: Layout): void {
  if (layout.status !== 'draft') {
    throw new AppError('LAYOUT_NOT_DRAFT', 409, `Layout ${layout.id} is ${layout.status}; only drafts can be changed or published.`, { ...PATH_ID, layoutId: layout.id, status: layout.status });
  }
}

export async function listCommunityLayouts(db: Database, communityCode: string, scope: Scope): Promise<Layout[]> {
  await requireCommunity(db, communityCode, scope);
  return listLayouts(db, communityCode);
}

/** A new draft: a copy of the published layout (default; empty when there is none) or empty. */
export async function createDraft(db: Database, communityCode: string, opts: { from?: 'empty' | 'published'; name?: string }, scope: Scope): Promise<Layout> {
  return db.transaction().execute(async (trx) => {
    await requireCommunity(trx, communityCode, scope);
    const publishedId = opts.from === 'empty' ? undefined : await findPublishedLayoutId(trx, communityCode);
    const id = await insertDraftLayout(trx, communityCode, opts.name ?? '', publishedId ?? null);
    if (publishedId !== undefined) await copyGrids(trx, publishedId, id);
    return requireLayout(trx, id);
  });
}

export async function getLayoutCollection(db: Database, id: number, scope: Scope): Promise<LayoutCollection> {
  const layout = await requireReadableLayout(db, id, scope);
  const grids = await listLayoutGrids(db, id);
  return { type: 'FeatureCollection', layout, features: grids.map(toGridFeature) };
}

export async function deleteDraft(db: Database, id: number, scope: Scope): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const layout = await requireLayoutInScope(trx, id, scope, 'update');
    if (layout.status !== 'draft') {
      throw new AppError('LAYOUT_PUBLISHED', 409, `Layout ${id} is ${layout.status}; published and archived layouts are kept as history.`, { ...PATH_ID, layoutId: id, status: layout.status });
    }
    await deleteLayout(trx, id);
  });
}

export interface ImportFeatureError {
  featureIndex: number;
  code: string;
  message: string;
  details?: unknown;
}

/** Where a feature's field (`geometry`, `code`) lies in the request, as an error about it says. */
export type FeatureWhere = (index: number, field: 'geometry' | 'code') => { in: 'body'; field: string };

/** A JSON body's FeatureCollection: `features/3/geometry`, `features/3/properties/code`. */
const inFeatureCollection: FeatureWhere = (index, field) => ({ in: 'body', field: field === 'geometry' ? `features/${index}/geometry` : `features/${index}/properties/${field}` });

/**
 * A whole layout from a GeoJSON FeatureCollection, as a new draft. All or nothing: one bad feature and
 * nothing is created; the answer lists every bad feature with its index and reason. `featureWhere`
 * names a feature's fields for a file read into features (a CSV's line and column; see whereInFile).
 */
export async function importLayout(
  db: Database,
  communityCode: string,
  body: { name?: string; features: GridInput[] },
  opts: { fix?: boolean; maxVertices: number; scope: Scope; featureWhere?: FeatureWhere },
): Promise<LayoutCollection> {
  const where = opts.featureWhere ?? inFeatureCollection;
  const layoutId = await db.transaction().execute(async (trx) => {
    await requireCommunity(trx, communityCode, opts.scope);
    const id = await insertDraftLayout(trx, communityCode, body.name ?? 'import', null);
    const errors: ImportFeatureError[] = [];
    const seenCodes = new Map<string, number>();
    for (const [index, feature] of body.features.entries()) {
      try {
        const props = feature.properties ?? {};
        const code = props.code ?? null;
        if (code !== null) {
          const atCode = where(index, 'code');
          if (!code.startsWith(communityCode)) throw new AppError('VALIDATION_FAILED', 422, `code ${code} does not start with the community code ${communityCode}`, atCode);
          const dup = seenCodes.get(code);
          if (dup !== undefined) throw new AppError('VALIDATION_FAILED', 422, `code ${code} is used by feature ${dup} too`, atCode);
          seenCodes.set(code, index);
        }
        const prepared = await prepareGridGeometry(trx, feature.geometry, { fix: opts.fix, maxVertices: opts.maxVertices, where: where(index, 'geometry') });
        const free = Object.fromEntries(Object.entries(props).filter(([k]) => !(RESERVED_GRID_PROPERTIES as readonly string[]).includes(k)));
        await insertGrid(trx, { layoutId: id, code, name: props.name ?? '', kind: props.kind ?? 'general', properties: free, geom: prepared.geom });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        errors.push({ featureIndex: index, code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) });
        if (errors.length >= 100) break;
      }
    }
    if (errors.length > 0) {
      throw new AppError('IMPORT_FAILED', 422, `${errors.length} feature(s) could not be imported; nothing was created.`, { in: 'body', field: 'features', errors });
    }
    return id;
  });
  return getLayoutCollection(db, layoutId, opts.scope);
}

/** Codes for the grids of a draft that have none (reading order; next free numbers). */
async function codeLayout(trx: Database, layout: Layout): Promise<AssignCodesResult> {
  const grids = await listCodableGrids(trx, layout.id);
  const highest = await highestCodeSequence(trx, layout.communityCode);
  const codes = assignGridCodes(layout.communityCode, grids, highest);
  await setGridCodes(trx, codes);
  return { assigned: [...codes.entries()].map(([id, code]) => ({ id, code })) };
}

export async function assignCodes(db: Database, id: number, scope: Scope): Promise<AssignCodesResult> {
  return db.transaction().execute(async (trx) => {
    const layout = await requireLayoutInScope(trx, id, scope, 'update');
    requireDraft(layout);
    await lockCommunityForPublish(trx, layout.communityCode);
    return codeLayout(trx, layout);
  });
}

export interface PublishResult {
  layout: Layout;
  archivedLayoutId: number | null;
  assigned: AssignCodesResult['assigned'];
  validation: LayoutValidationReport['summary'];
  /** Registry rows whose grid changed with this publish. */
  rederived: RederiveCounts;
}

/**
 * What publishing `id` would move, per (current grid → new grid): buildings, households, residents.
 * Also answers for the published layout itself (everything stays).
 */
export async function previewLayoutImpact(db: Database, id: number, scope: Scope): Promise<LayoutImpact> {
  return db.transaction().execute(async (trx) => {
    const layout = await requireLayoutInScope(trx, id, scope);
    const moves = await listLayoutImpact(trx, id, layout.communityCode);
    const moved = { buildings: 0, households: 0, residents: 0 };
    const perGrid = new Map<number, LayoutImpact['grids'][number]>();
    for (const m of moves) {
      if (m.fromGridCode !== m.toGridCode || m.toGridCode === null) {
        moved.buildings += m.buildings;
        moved.households += m.households;
        moved.residents += m.residents;
      }
      if (m.toGridId === null) continue;
      const g = perGrid.get(m.toGridId) ?? { gridId: m.toGridId, gridCode: m.toGridCode, buildings: 0, households: 0, residents: 0 };
      g.buildings += m.buildings;
      g.households += m.households;
      g.residents += m.residents;
      perGrid.set(m.toGridId, g);
    }
    return { layoutId: id, communityCode: layout.communityCode, moved, moves, grids: [...perGrid.values()].sort((a, b) => a.gridId - b.gridId) };
  });
}

/**
 * Publish a draft: validate (overlaps and parts outside the boundary refuse; gaps and warnings only in
 * strict mode), code the uncoded grids, archive the published layout and publish this one at one
 * instant. Publishes of one community are serialised by an advisory lock; the layout row is locked
 * FOR UPDATE so no grid write slips in between validation and publish.
 */
export async function publishLayout(db: Database, id: number, opts: { strict?: boolean; actor?: AuditActor; scope: Scope }): Promise<PublishResult> {
  return db.transaction().execute(async (trx) => {
    const first = await requireLayoutInScope(trx, id, opts.scope);
    await lockCommunityForPublish(trx, first.communityCode);
    const layout = await requireLayout(trx, id, 'update');
    requireDraft(layout);
    if (layout.gridCount === 0) throw new AppError('LAYOUT_INVALID', 422, 'An empty layout cannot be published.', { ...PATH_ID, layoutId: id });

    const report = await validateLayout(trx, id, { strict: opts.strict === true });
    if (!report.summary.publishable) {
      const code = report.summary.overlaps > 0 ? 'GRID_OVERLAP' : report.summary.outside > 0 ? 'GRID_OUTSIDE_BOUNDARY' : 'LAYOUT_INVALID';
      throw new AppError(code, 422, 'The layout has problems that block publishing; see details.problems (GET …/validation shows them on the map).', {
        ...PATH_ID,
        layoutId: id,
        summary: report.summary,
        problems: report.problems.filter((p) => p.severity === 'error'),
      });
    }
    const previous = await findPublishedLayoutId(trx, layout.communityCode);
    const { assigned } = await codeLayout(trx, layout);
    await switchPublishedLayout(trx, layout.communityCode, id);
    // Buildings, households, residents and organisations follow the new grids in the same transaction.
    const rederived = await rederiveCommunity(trx, layout.communityCode, id);
    await writeAudit(trx, {
      actor: opts.actor ?? SYSTEM_ACTOR,
      action: 'layout.publish',
      target: { type: 'layout', id },
      details: { communityCode: layout.communityCode, archivedLayoutId: previous ?? null, strict: opts.strict === true, gridCount: layout.gridCount, codesAssigned: assigned.length },
    });
    return { layout: await requireLayout(trx, id), archivedLayoutId: previous ?? null, assigned, validation: report.summary, rederived };
  });
}
