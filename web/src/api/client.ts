/** Typed fetch helpers; wire types come from the server's contracts (one source of truth). */
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
}

async function getJson<T>(url: string, acceptStatuses: number[] = []): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok && !acceptStatuses.includes(res.status)) {
    throw new ApiError(res.status, (await res.json().catch(() => undefined)) as ErrorResponse | undefined);
  }
  return (await res.json()) as T;
}

export const fetchClientConfig = (): Promise<ClientConfig> => getJson<ClientConfig>('/api/v1/config');
/** 503 is a normal health answer, not an error. */
export const fetchHealth = (): Promise<Health> => getJson<Health>('/health', [503]);
