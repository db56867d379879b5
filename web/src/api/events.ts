/**
 * Events API (issue #7) for the dispatch console and the analysis KPI table: taxonomy, intake, listing,
 * timeline, workflow transitions and KPIs. Every call carries the signed-in user's Bearer token.
 */
import type { GridFeature } from '@contracts/grid';
import type {
  CreateEventBody,
  Event,
  EventList,
  EventListQuery,
  KpiQuery,
  KpiReport,
  Taxonomy,
  Timeline,
  TransitionBody,
  TransitionResult,
} from '@contracts/events';
import type { ErrorResponse } from '@contracts/common';
import { ApiError, getAccessToken } from './client';

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * JSON request with a Bearer token; any non-2xx becomes an `ApiError` carrying the server's error body.
 * The shell's client holds the freshest token (its session refreshes it before expiry), so that one
 * wins over the token the view was mounted with. Unlike the client's `request`, this one can be aborted
 * (typing in the address box cancels the previous suggestion request).
 */
export async function authedJson<T>(token: string, url: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${getAccessToken() ?? token}`, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (!res.ok) throw new ApiError(res.status, (await res.json().catch(() => undefined)) as ErrorResponse | undefined);
  return (await res.json()) as T;
}

/** `?a=1&b=x` from the defined values only. */
export function queryString(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const fetchTaxonomy = (token: string): Promise<Taxonomy> => authedJson<Taxonomy>(token, '/api/v1/event-categories');

/** File an event; the Idempotency-Key makes a retried click create nothing new. */
export const createEvent = (token: string, body: CreateEventBody, idempotencyKey: string): Promise<Event> =>
  authedJson<Event>(token, '/api/v1/events', { method: 'POST', body, headers: { 'idempotency-key': idempotencyKey } });

export const listEvents = (token: string, query: Partial<EventListQuery>, signal?: AbortSignal): Promise<EventList> =>
  authedJson<EventList>(token, `/api/v1/events${queryString({ ...query, format: 'json' })}`, signal ? { signal } : {});

export const fetchEvent = (token: string, id: number): Promise<Event> => authedJson<Event>(token, `/api/v1/events/${id}`);

export const fetchTimeline = (token: string, id: number): Promise<Timeline> => authedJson<Timeline>(token, `/api/v1/events/${id}/timeline`);

export const transitionEvent = (token: string, id: number, body: TransitionBody): Promise<TransitionResult> =>
  authedJson<TransitionResult>(token, `/api/v1/events/${id}/transitions`, { method: 'POST', body });

export const fetchKpis = (token: string, query: Omit<KpiQuery, 'format'>): Promise<KpiReport> =>
  authedJson<KpiReport>(token, `/api/v1/events/kpis${queryString({ ...query, format: 'json' })}`);

/** One grid's geometry (to highlight it); needs layouts:read. */
export const fetchGrid = (token: string, id: number): Promise<GridFeature> => authedJson<GridFeature>(token, `/api/v1/grids/${id}`);
