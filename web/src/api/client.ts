/**
 * Typed fetch helpers; wire types come from the server's contracts (one source of truth).
 *
 * One bearer token is kept here for every call. When an access token has expired the client asks the
 * session (auth/session.ts) once to refresh it and repeats the request, so views never handle a 401 from
 * an expired token themselves.
 */
import type { ClientConfig } from '@contracts/meta';
import type { Health } from '@contracts/health';
import type { ErrorResponse } from '@contracts/common';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorResponse | undefined,
  ) {
    super(body?.error.message ?? `HTTP ${status}`);
  }

  get code(): string | undefined {
    return this.body?.error.code;
  }
}

let accessToken: string | null = null;
let refresher: (() => Promise<boolean>) | null = null;

/** The token sent as `Authorization: Bearer …`; null when signed out. */
export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export function getAccessToken(): string | null {
  return accessToken;
}

/** How to get a fresh access token after a 401 (returns false when the session is gone). */
export function setTokenRefresher(fn: (() => Promise<boolean>) | null): void {
  refresher = fn;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses answered with a body the caller wants (e.g. 503 health). */
  acceptStatuses?: number[];
  /** Sign-in and refresh must not trigger a refresh themselves. */
  noRefresh?: boolean;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A JSON request; throws ApiError for any status not ok and not in `acceptStatuses`. */
export async function request<T>(url: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const send = (): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(url, { method: options.method ?? 'GET', headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  };
  let res = await send();
  if (res.status === 401 && !options.noRefresh && accessToken && refresher && (await refresher())) res = await send();
  if (!res.ok && !(options.acceptStatuses ?? []).includes(res.status)) {
    throw new ApiError(res.status, (await res.json().catch(() => undefined)) as ErrorResponse | undefined);
  }
  const body = (res.status === 204 ? undefined : await res.json()) as T;
  return { status: res.status, body, headers: res.headers };
}

export async function getJson<T>(url: string, acceptStatuses: number[] = []): Promise<T> {
  return (await request<T>(url, { acceptStatuses })).body;
}

export async function postJson<T>(url: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  return (await request<T>(url, { method: 'POST', body, ...(headers ? { headers } : {}) })).body;
}

export const fetchClientConfig = (): Promise<ClientConfig> => getJson<ClientConfig>('/api/v1/config');
/** 503 is a normal health answer, not an error. */
export const fetchHealth = (): Promise<Health> => getJson<Health>('/health', [503]);
