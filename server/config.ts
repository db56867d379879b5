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
  };
}

/** Config for in-process tests: quiet, no web bundle, no demo. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({}), port: 0, host: '127.0.0.1', webDistDir: undefined, loadDemo: false, logLevel: 'silent', ...overrides };
}
