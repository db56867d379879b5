/**
 * Typed calls of the divisions, layouts and grids APIs the grid editor uses (issue #3). Wire types come
 * from the server's contracts; errors arrive as ApiError with the server's code, message and details.
 */
import type { DivisionDetail, DivisionList } from '@contracts/division';
import type { EditResult, GridFeature, GridInput, GridWriteResult, MergeResult, SplitResult } from '@contracts/grid';
import type { AssignCodesResult, Layout, LayoutCollection } from '@contracts/layout';
import type { LayoutValidationReport } from '@contracts/layout-validation';
import type { LayoutImpact } from '@contracts/registry';
import type { LineString, Polygon, MultiPolygon } from 'geojson';
import { getJson, postJson, request } from './client';

export const listDivisions = (parent?: string): Promise<DivisionList> => getJson<DivisionList>(`/api/v1/divisions${parent ? `?parent=${parent}` : ''}`);
export const getDivision = (code: string): Promise<DivisionDetail> => getJson<DivisionDetail>(`/api/v1/divisions/${code}`);

export const listLayouts = async (community: string): Promise<Layout[]> => (await getJson<{ layouts: Layout[] }>(`/api/v1/communities/${community}/layouts`)).layouts;
export const createDraft = (community: string, from: 'empty' | 'published', name?: string): Promise<Layout> =>
  postJson<Layout>(`/api/v1/communities/${community}/layouts`, { from, ...(name ? { name } : {}) });
export const getLayout = (id: number): Promise<LayoutCollection> => getJson<LayoutCollection>(`/api/v1/layouts/${id}`);
export const deleteDraft = async (id: number): Promise<void> => {
  await request<null>(`/api/v1/layouts/${id}`, { method: 'DELETE' });
};
export const validateLayout = (id: number): Promise<LayoutValidationReport> => getJson<LayoutValidationReport>(`/api/v1/layouts/${id}/validation`);
export const layoutImpact = (id: number): Promise<LayoutImpact> => getJson<LayoutImpact>(`/api/v1/layouts/${id}/impact`);
export const assignCodes = (id: number): Promise<AssignCodesResult> => postJson<AssignCodesResult>(`/api/v1/layouts/${id}/codes`);

export interface PublishResult {
  layout: Layout;
  archivedLayoutId: number | null;
  assigned: AssignCodesResult['assigned'];
}
export const publishLayout = (id: number): Promise<PublishResult> => postJson<PublishResult>(`/api/v1/layouts/${id}/publish`, {});

export const getGrid = (id: number): Promise<GridFeature> => getJson<GridFeature>(`/api/v1/grids/${id}`);
export const createGrid = (layoutId: number, input: GridInput): Promise<GridWriteResult> => postJson<GridWriteResult>(`/api/v1/layouts/${layoutId}/grids`, input);
/** Replaces a grid if it is still at `version` (If-Match); a newer version on the server → ApiError 412. */
export const replaceGrid = (id: number, version: number, input: GridInput): Promise<GridWriteResult> =>
  request<GridWriteResult>(`/api/v1/grids/${id}`, { method: 'PUT', body: input, headers: { 'if-match': `"${version}"` } }).then((r) => r.body);
export const deleteGrid = async (id: number, version?: number): Promise<void> => {
  await request<null>(`/api/v1/grids/${id}`, { method: 'DELETE', ...(version === undefined ? {} : { headers: { 'if-match': `"${version}"` } }) });
};
export const splitGrid = (id: number, line: LineString): Promise<SplitResult> => postJson<SplitResult>(`/api/v1/grids/${id}/split`, { line });
export const mergeGrids = (ids: number[]): Promise<MergeResult> => postJson<MergeResult>('/api/v1/grids/merge', { ids });
export const snapGrid = (id: number, toleranceM?: number): Promise<EditResult> => postJson<EditResult>(`/api/v1/grids/${id}/snap`, toleranceM === undefined ? {} : { toleranceM });
export const clipGrid = (id: number): Promise<EditResult> => postJson<EditResult>(`/api/v1/grids/${id}/clip`, {});
export const fillGap = (layoutId: number, gap: Polygon, gridId?: number): Promise<EditResult> =>
  postJson<EditResult>(`/api/v1/layouts/${layoutId}/fill-gap`, { gap, ...(gridId === undefined ? {} : { gridId }) });

export type Polygonal = Polygon | MultiPolygon;
