/**
 * Authenticated principals in memory, per bearer token, for a few seconds: a hotline client sends the
 * same bearer token thousands of times a minute, and looking it up in PostgreSQL each time cost half
 * of every request (issue #6, "Speed"). Keyed by the token string itself, so a hit costs no SHA-256
 * (the database knows tokens by hash only; the hash is computed on a miss). The tokens are held only
 * as long as their entries, in this process's memory, where every request's header is anyway.
 *
 * Trust rules:
 * - An entry lives `ttlMs` (30 s) at most, and never beyond the token's own expiry.
 * - Whatever changes what a token may do (revocation, rotation, expiry, a user's roles, scope, disabled
 *   flag or password) is announced by PostgreSQL on `wangge_auth_changed` with the user id (triggers,
 *   migrations/0014_auth_notify.sql); every server process forgets that user's principals when the
 *   announcement arrives.
 * - In this process, routes that revoke (`config.invalidatesPrincipals`) flush the cache before their
 *   answer is sent, so "the very next request" is refused without waiting for the announcement.
 * - While the LISTEN connection is down (or without one), announcements may be missed: entries are
 *   trusted for `unsyncedTtlMs` (1 s) only, and a reconnect flushes everything.
 * - A lookup that started before a flush never stores its (possibly stale) answer: a generation counter
 *   tells.
 * Only successful authentications are cached: unknown, revoked and expired tokens always go to the
 * database, so a flood of bad tokens cannot evict good ones and refusals stay exact.
 */
import type { NotificationHub } from '../db/notifications';
import type { Principal } from './principal';

export const AUTH_CHANGED_CHANNEL = 'wangge_auth_changed';

export interface PrincipalCacheOptions {
  /** How long an entry is trusted while announcements arrive (ms; default 30 s, 0 disables the cache). */
  ttlMs?: number;
  /** How long an entry is trusted without a live notification connection (ms; default 1 s). */
  unsyncedTtlMs?: number;
  /** Most entries kept; the oldest goes first (default 10,000). */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  principal: Principal;
  cachedAt: number;
  /** The token's own expiry (ms since epoch). */
  expiresAt: number;
  userId: number | null;
}

export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly unsyncedTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private hub: NotificationHub | undefined;
  private gen = 0;
  /** Lookups under way, by token, with the generation they started in (lookUpOnce). */
  private readonly inflight = new Map<string, { gen: number; principal: Promise<Principal> }>();
  /** Called after every invalidation (tests wait on it). */
  onInvalidate: ((userId: number | '*') => void) | undefined;

  constructor(options: PrincipalCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.unsyncedTtlMs = Math.min(options.unsyncedTtlMs ?? 1_000, this.ttlMs);
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Follow PostgreSQL's announcements; subscribe before the hub starts. */
  attach(hub: NotificationHub): void {
    this.hub = hub;
    hub.on(AUTH_CHANGED_CHANNEL, (payload) => {
      const userId = Number(payload);
      if (payload !== '' && Number.isInteger(userId)) this.forgetUser(userId);
      else this.clear();
    });
    // Announcements may have been missed while disconnected.
    hub.onReconnect(() => this.clear());
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached principal of a bearer token, if still trusted. */
  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const now = this.now();
    const ttl = this.hub?.connected ? this.ttlMs : this.unsyncedTtlMs;
    if (now - entry.cachedAt < ttl && now < entry.expiresAt) return entry.principal;
    this.entries.delete(token);
    return undefined;
  }

  /** Take before looking a token up; pass to `set`, which ignores answers older than an invalidation. */
  generation(): number {
    return this.gen;
  }

  set(token: string, principal: Principal, expiresAt: number, generation: number): void {
    if (generation !== this.gen || this.ttlMs <= 0) return;
    const now = this.now();
    if (expiresAt <= now) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { principal: freezePrincipal(principal), cachedAt: now, expiresAt, userId: principal.userId });
  }

  /**
   * One lookup per token at a time: requests arriving while their token is being looked up share that
   * lookup (its answer or its refusal), unless an invalidation came since it started; then they look
   * it up afresh, so a revocation is never answered from a lookup older than itself. Without this,
   * when a cached principal expires under load every request in flight queries PostgreSQL for the same
   * token (2–5 % of event-tile requests in a benchmark without a notification connection, where
   * principals are trusted for 1 s).
   */
  lookUpOnce(token: string, lookUp: () => Promise<Principal>): Promise<Principal> {
    const running = this.inflight.get(token);
    if (running && running.gen === this.gen) return running.principal;
    const entry = { gen: this.gen, principal: lookUp() };
    this.inflight.set(token, entry);
    const done = (): void => {
      if (this.inflight.get(token) === entry) this.inflight.delete(token);
    };
    entry.principal.then(done, done);
    return entry.principal;
  }

  /** Forget every principal of a user (their sessions and API tokens). */
  forgetUser(userId: number): void {
    this.gen += 1;
    for (const [token, entry] of this.entries) if (entry.userId === userId) this.entries.delete(token);
    this.onInvalidate?.(userId);
  }

  clear(): void {
    this.gen += 1;
    this.entries.clear();
    this.onInvalidate?.('*');
  }
}

/** A cached principal is shared by many requests: nobody may change it. */
function freezePrincipal(p: Principal): Principal {
  Object.freeze(p.roles);
  Object.freeze(p.scope.prefixes);
  Object.freeze(p.scope);
  return Object.freeze(p);
}
