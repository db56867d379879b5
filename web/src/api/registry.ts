/**
 * Registry and grid staff API for the grid worker's view: a grid's residents (masked as the server
 * sends them), its buildings and households, its staff and who is on duty. Every call carries the
 * signed-in user's Bearer token; the server narrows each answer to the user's scope.
 */
import type { BuildingListSchema, GridMembersSchema, HouseholdListSchema, ResidentListQuery, ResidentListSchema } from '@contracts/registry';
import type { DivisionDetail } from '@contracts/division';
import type { GridCollection } from '@contracts/grid';
import type { Static } from 'typebox';
import { authedJson, queryString } from './events';

export type ResidentList = Static<typeof ResidentListSchema>;
export type GridMembers = Static<typeof GridMembersSchema>;

/** Who is on duty in a grid now (GET /api/v1/grids/{code}/on-duty; the route's own schema). */
export interface OnDuty {
  gridCode: string;
  at: string;
  onDuty: { staffId: number; staffCode: string; name: string; phone: string | null; role: string; level: string; via: string; scopeCode: string } | null;
}

export const listResidents = (token: string, query: Partial<ResidentListQuery>): Promise<ResidentList> =>
  authedJson<ResidentList>(token, `/api/v1/residents${queryString(query)}`);

/** One page (up to `limit`) of a grid's buildings, to count them. */
export const listGridBuildings = (token: string, grid: string, limit: number): Promise<Static<typeof BuildingListSchema>> =>
  authedJson(token, `/api/v1/buildings${queryString({ grid, limit })}`);

export const listGridHouseholds = (token: string, grid: string, limit: number): Promise<Static<typeof HouseholdListSchema>> =>
  authedJson(token, `/api/v1/households${queryString({ grid, limit })}`);

export const fetchGridMembers = (token: string, gridId: number): Promise<GridMembers> => authedJson<GridMembers>(token, `/api/v1/grids/${gridId}/members`);

export const fetchOnDuty = (token: string, gridCode: string): Promise<OnDuty> => authedJson<OnDuty>(token, `/api/v1/grids/${gridCode}/on-duty`);

/** A division with its boundary (public). */
export const fetchDivision = (token: string, code: string): Promise<DivisionDetail> => authedJson<DivisionDetail>(token, `/api/v1/divisions/${code}`);

/** Published grids, optionally within a bbox (public; GeoJSON with code and name). */
export const listPublishedGrids = (token: string, bbox?: string): Promise<GridCollection> =>
  authedJson<GridCollection>(token, `/api/v1/grids${queryString({ bbox, limit: 5000 })}`);
