/** Dispatch lookup (issue #6): who is responsible at a point or address, and who is on duty now. */
import type { DispatchResult } from '@contracts/dispatch';
import type { Static } from 'typebox';
import type { DispatchAddressResponseSchema } from '@contracts/dispatch';
import { authedJson, queryString } from './events';

export type DispatchAddressResponse = Static<typeof DispatchAddressResponseSchema>;
export type DispatchAddressCandidate = DispatchAddressResponse['candidates'][number];

export const lookupPoint = (token: string, lon: number, lat: number): Promise<DispatchResult> =>
  authedJson<DispatchResult>(token, `/api/v1/dispatch/lookup${queryString({ lon, lat })}`);

/** Ranked candidates for free Chinese text (buildings, organisations, places) plus the best one's full answer. */
export const lookupAddress = (token: string, address: string, signal?: AbortSignal, limit = 8): Promise<DispatchAddressResponse> =>
  authedJson<DispatchAddressResponse>(token, `/api/v1/dispatch/lookup${queryString({ address, limit })}`, signal ? { signal } : {});
