/**
 * The signed-in session: access and refresh token kept in sessionStorage (gone when the tab closes, not
 * shared between tabs), refreshed before the access token expires and on a 401, and revoked on sign-out.
 */
import type { Me, SessionTokens } from '@contracts/auth';
import { ApiError, request, setAccessToken, setTokenRefresher } from '../api/client';

const STORAGE_KEY = 'wangge.session';
/** Refresh this long before the access token expires, so no request meets an expired one. */
const REFRESH_MARGIN_MS = 60_000;

interface StoredSession {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  accessExpiresAt: number;
  user: Me;
}

let session: StoredSession | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(me: Me | null) => void>();

export function currentUser(): Me | null {
  return session?.user ?? null;
}

export function currentToken(): string | null {
  return session?.accessToken ?? null;
}

/** Called with the user after sign-in/refresh and with null after sign-out or a lost session. */
export function onSessionChange(fn: (me: Me | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function signIn(username: string, password: string): Promise<Me> {
  const { body } = await request<SessionTokens>('/api/v1/auth/sign-in', { method: 'POST', body: { username, password }, noRefresh: true });
  store(body);
  return body.user;
}

export async function signOut(): Promise<void> {
  if (session) await request<null>('/api/v1/auth/sign-out', { method: 'POST', acceptStatuses: [401] }).catch(() => undefined);
  clear();
}

/** Changes the password (a one-time password must be changed before anything else), then refreshes
 * the session so the user no longer carries `mustChangePassword`. */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await request<null>('/api/v1/auth/password', { method: 'POST', body: { currentPassword, newPassword } });
  if (!(await refresh())) throw new Error('session lost');
}

/** Restores a session from sessionStorage (a reload): refreshes at once if the access token is stale. */
export async function restoreSession(): Promise<Me | null> {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    session = JSON.parse(raw) as StoredSession;
  } catch {
    clear();
    return null;
  }
  setAccessToken(session.accessToken);
  setTokenRefresher(refresh);
  if (session.accessExpiresAt - Date.now() < REFRESH_MARGIN_MS) {
    if (!(await refresh())) return null;
  } else {
    schedule();
  }
  return session?.user ?? null;
}

/** Exchanges the refresh token once; concurrent callers share one exchange. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    if (!session) return false;
    try {
      const { body } = await request<SessionTokens>('/api/v1/auth/refresh', { method: 'POST', body: { refreshToken: session.refreshToken }, noRefresh: true });
      store(body);
      return true;
    } catch (err) {
      // A refused refresh token means the session is over; a network failure keeps it for a retry.
      if (err instanceof ApiError) clear();
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function store(tokens: SessionTokens): void {
  session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessExpiresAt: Date.now() + tokens.expiresIn * 1000, user: tokens.user };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  setAccessToken(session.accessToken);
  setTokenRefresher(refresh);
  schedule();
  for (const fn of listeners) fn(session.user);
}

function schedule(): void {
  clearTimeout(timer);
  if (!session) return;
  timer = setTimeout(() => void refresh(), Math.max(5_000, session.accessExpiresAt - Date.now() - REFRESH_MARGIN_MS));
}

function clear(): void {
  const had = session !== null;
  session = null;
  clearTimeout(timer);
  sessionStorage.removeItem(STORAGE_KEY);
  setAccessToken(null);
  setTokenRefresher(null);
  if (had) for (const fn of listeners) fn(null);
}
