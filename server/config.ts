/**
 * Typed configuration from the environment. Every variable is documented in README.md (Configuration);
 * add it there when you add it here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface AppConfig {
  /** HTTP port; 0 picks a free one (tests). */
  port: number;
  host: string;
  /** An external PostGIS server; when absent the embedded cluster in `.data/` is used. */
  databaseUrl: string | undefined;
  /** Database name on the embedded cluster. */
  localDatabaseName: string;
  /** Largest accepted request body, bytes. */
  bodyLimitBytes: number;
  /** Largest accepted vertex count of one geometry. */
  maxVertices: number;
  /** Built web app to serve at `/`; absent → API only. */
  webDistDir: string | undefined;
  /** Optional external basemap style URL handed to the web app (OSM raster, Tianditu, …). */
  basemapStyleUrl: string | undefined;
  /** Load the demo community on first start when the database is empty. */
  loadDemo: boolean;
  logLevel: string;
  /** Origins allowed by CORS (comma-separated in the env); empty → same-origin only. */
  corsOrigins: string[];
  /** Per-statement timeout for ordinary API requests, ms. */
  statementTimeoutMs: number;
  /** Lifetime of an access token, seconds (short: a stolen one is useful briefly). */
  accessTokenTtlSeconds: number;
  /** Lifetime of a refresh token, seconds; each refresh rotates it. */
  refreshTokenTtlSeconds: number;
  /** Sign-in and refresh requests per client address and minute. */
  signInRateLimitPerMinute: number;
  /** Public intake (Open311) requests per client address and minute. */
  publicIntakeRateLimitPerMinute: number;
  /** Trust X-Forwarded-For from a reverse proxy for client addresses (rate limits, lockout, audit). */
  trustProxy: boolean;
  /** Registry encryption key (32 bytes, base64); absent → generated once into `.data/registry.key`. */
  registryKey: string | undefined;
  /** Dispatch: a point outside every grid goes to the nearest grid within this distance (metres). */
  dispatchNearestGridM: number;
  /** Memory for cached vector tiles and their compressed forms, MiB (0: no tile cache). */
  tileCacheMb: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function boolFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    port: intFromEnv(env, 'PORT', 3000),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    localDatabaseName: env.WANGGE_LOCAL_DB || 'wangge',
    bodyLimitBytes: intFromEnv(env, 'BODY_LIMIT_BYTES', 10 * 1024 * 1024),
    maxVertices: intFromEnv(env, 'MAX_VERTICES', 50_000),
    webDistDir: env.WEB_DIST_DIR === '' ? undefined : path.resolve(PROJECT_ROOT, env.WEB_DIST_DIR ?? 'dist/web'),
    basemapStyleUrl: env.BASEMAP_STYLE_URL || undefined,
    loadDemo: boolFromEnv(env, 'LOAD_DEMO', true),
    logLevel: env.LOG_LEVEL || 'info',
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    statementTimeoutMs: intFromEnv(env, 'STATEMENT_TIMEOUT_MS', 15_000),
    accessTokenTtlSeconds: intFromEnv(env, 'ACCESS_TOKEN_TTL_SECONDS', 15 * 60),
    refreshTokenTtlSeconds: intFromEnv(env, 'REFRESH_TOKEN_TTL_SECONDS', 12 * 60 * 60),
    signInRateLimitPerMinute: intFromEnv(env, 'SIGN_IN_RATE_LIMIT_PER_MINUTE', 10),
    publicIntakeRateLimitPerMinute: intFromEnv(env, 'PUBLIC_INTAKE_RATE_LIMIT_PER_MINUTE', 30),
    trustProxy: boolFromEnv(env, 'TRUST_PROXY', false),
    registryKey: env.REGISTRY_KEY || undefined,
    dispatchNearestGridM: intFromEnv(env, 'DISPATCH_NEAREST_GRID_M', 100),
    tileCacheMb: intFromEnv(env, 'TILE_CACHE_MB', 256),
  };
}

/** A fixed registry key for tests only (32 bytes of 0x2a), never a deployment's. */
export const TEST_REGISTRY_KEY = Buffer.alloc(32, 0x2a).toString('base64');

/** Config for in-process tests: quiet, no web bundle, no demo. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({}), port: 0, host: '127.0.0.1', webDistDir: undefined, loadDemo: false, logLevel: 'silent', registryKey: TEST_REGISTRY_KEY, ...overrides };
}
