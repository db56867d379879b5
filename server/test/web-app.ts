/**
 * The fixture of a browser test file (`web/e2e/*.e2e.test.ts`): the built web app served by the real
 * server on a real port, over a fresh database with the demo city loaded, and a headless Chromium.
 *
 * The web build is shared by every file of a run: `dist/web` is reused while it is newer than every
 * file it is built from (after `npm run build`, as in `npm test`, it always is), and otherwise rebuilt
 * once, under a lock, by whichever worker gets there first.
 *
 * @example
 * describe('…', () => {
 *   const web = useWebApp();
 *   it('…', async () => {
 *     const page = await web.newPage();
 *     await web.openSignedIn(page, 'demo-planner', { waitFor: '[data-testid="view-editor"]' });
 *   });
 * });
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../app';
import { PROJECT_ROOT, testConfig } from '../config';
import type { SessionTokens } from '../contracts/auth';
import { loadDemoIfEmpty } from '../modules/demo/demo.service';
import { registryCipherFromConfig } from '../modules/registry/registry-crypto';
import { DEMO_PASSWORD } from '../modules/users/user.service';
import { launchBrowser, type Browser } from './browser';
import { createTestDatabase, type TestDatabase } from './database';

export { DEMO_PASSWORD };

export const WEB_DIST = path.join(PROJECT_ROOT, 'dist/web');
const VITE_CONFIG = path.join(PROJECT_ROOT, 'vite.config.ts');

/**
 * What the web bundle is built from: web/ (sources, index.html, messages; not the browser tests),
 * the server code it imports through the @contracts and @geo aliases (contracts import
 * auth/principal), the build config and the locked dependency versions.
 */
const BUILD_INPUTS = ['web', 'server/contracts', 'server/geo', 'server/auth', 'vite.config.ts', 'package-lock.json'];
const NOT_BUILD_INPUTS = [path.join(PROJECT_ROOT, 'web/e2e')];

function newestInput(): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  const visit = (p: string): void => {
    if (NOT_BUILD_INPUTS.includes(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) visit(path.join(p, name));
    } else if (!p.endsWith('.test.ts') && st.mtimeMs > newest.mtimeMs) {
      newest = { file: p, mtimeMs: st.mtimeMs };
    }
  };
  for (const input of BUILD_INPUTS) {
    const p = path.join(PROJECT_ROOT, input);
    if (existsSync(p)) visit(p);
  }
  return newest;
}

/** Why dist/web cannot be used as it is, or undefined when it is fresh. */
export function webBuildStaleReason(): string | undefined {
  const index = path.join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return `${path.relative(PROJECT_ROOT, index)} is missing`;
  const built = statSync(index).mtimeMs;
  const newest = newestInput();
  return newest.mtimeMs > built ? `${path.relative(PROJECT_ROOT, newest.file)} changed after the last build` : undefined;
}

/**
 * One web build at a time across workers and runs: the lock is a listening socket in Linux's abstract
 * namespace, named after the project root (worktrees do not block each other). The kernel frees it
 * when its process dies, so a killed run leaves nothing to take over; a lock file had to be taken over
 * from a dead PID, and two waiters could both do that and build at once.
 */
const BUILD_LOCK = `\0wangge-web-build-${createHash('sha256').update(PROJECT_ROOT).digest('hex').slice(0, 16)}`;
const BUILD_LOCK_WAIT_MS = 5 * 60_000;

/** The lock when free (close the server to release it), undefined while another process or worker holds it. */
function tryBuildLock(): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    server.listen(BUILD_LOCK, () => resolve(server));
  });
}

/** Runs `fn` holding the web-build lock, waiting up to BUILD_LOCK_WAIT_MS for it. */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUILD_LOCK_WAIT_MS;
  let lock: Server | undefined;
  while ((lock = await tryBuildLock()) === undefined) {
    if (Date.now() > deadline) throw new Error(`waited ${BUILD_LOCK_WAIT_MS / 1000} s for another process's web build of ${PROJECT_ROOT}`);
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    await new Promise((resolve) => lock.close(resolve));
  }
}

/** dist/web built from the current sources: reused when fresh, else built once (see the file comment). */
export async function ensureWebBuild(): Promise<string> {
  // Checked under the lock: a build in progress has emptied or half-written dist/web even if index.html is there.
  await withBuildLock(async () => {
    const reason = webBuildStaleReason();
    if (reason === undefined) return;
    console.log(`[web build] ${reason}: building dist/web`);
    await build({ configFile: VITE_CONFIG, logLevel: 'warn' });
  });
  return WEB_DIST;
}

export interface WebApp {
  /** `http://127.0.0.1:<port>` of the running server. */
  baseUrl: string;
  app: FastifyInstance;
  tdb: TestDatabase;
  browser: Browser;
  newPage(): Promise<Page>;
  /** Signs in through the API (POST /api/v1/auth/sign-in); throws when refused. */
  signIn(username: string, password?: string): Promise<SessionTokens>;
  /** JSON from `url` (a path) with this access token; throws with the status and body when not 2xx. */
  fetchJson<T>(token: string, url: string, init?: RequestInit): Promise<T>;
  /** Opens `path`, waits for the map, signs in through the form and waits for `waitFor`. */
  openSignedIn(page: Page, username: string, opts: { path?: string; waitFor: string; timeout?: number }): Promise<void>;
  close(): Promise<void>;
}

/** Fills the shell's sign-in form and submits it (waits for nothing). */
export async function fillSignInForm(page: Page, username: string, password = DEMO_PASSWORD): Promise<void> {
  await page.getByTestId('sign-in-username').fill(username);
  await page.getByTestId('sign-in-password').fill(password);
  await page.getByTestId('sign-in-submit').click();
}

/**
 * Collects what goes wrong in a page: console errors, uncaught errors and (unless `responses: false`)
 * HTTP answers of 400 and above. `expected(url)` exempts the console errors and answers of a URL.
 */
export function watchProblems(page: Page, opts: { console?: boolean; responses?: boolean; expected?: (url: string) => boolean } = {}): string[] {
  const { console: consoleErrors = true, responses = true, expected = () => false } = opts;
  const problems: string[] = [];
  if (consoleErrors) {
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !expected(msg.location().url)) problems.push(msg.text());
    });
  }
  page.on('pageerror', (err) => problems.push(err.message));
  if (responses) {
    page.on('response', (res) => {
      if (res.status() >= 400 && !expected(res.url())) problems.push(`${res.status()} ${res.url()}`);
    });
  }
  return problems;
}

/** Builds the web app if needed, starts the server on a free port over a fresh demo database, launches Chromium. */
export async function startWebApp(): Promise<WebApp> {
  const webDistDir = await ensureWebBuild();
  const tdb = await createTestDatabase();
  // Closed in reverse order of opening (browser, server, database), also when starting fails halfway.
  const opened: Array<() => Promise<void>> = [() => tdb.drop()];
  const close = async (): Promise<void> => {
    for (const closeOne of [...opened].reverse()) await closeOne();
  };
  try {
    const config = testConfig({ webDistDir });
    // The demo's ID numbers and phones encrypted with the key the app reads them with (the default
    // cipher is the development key, which the test config does not use: listing residents was a 500).
    await loadDemoIfEmpty(tdb.db, 'small', registryCipherFromConfig(config));
    const app = await buildApp({ config, db: tdb.db });
    opened.push(() => app.close());
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await launchBrowser();
    opened.push(() => browser.close());

    const fetchJson = async <T>(token: string, url: string, init: RequestInit = {}): Promise<T> => {
      const headers = { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers };
      const res = await fetch(`${baseUrl}${url}`, { ...init, headers });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    return {
      baseUrl,
      app,
      tdb,
      browser,
      newPage: () => browser.context.newPage(),
      signIn: async (username, password = DEMO_PASSWORD) => {
        const res = await fetch(`${baseUrl}/api/v1/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
        if (!res.ok) throw new Error(`sign-in as ${username}: HTTP ${res.status} ${await res.text()}`);
        return (await res.json()) as SessionTokens;
      },
      fetchJson,
      openSignedIn: async (page, username, { path: at = '/', waitFor, timeout = 20_000 }) => {
        await page.goto(`${baseUrl}${at}`);
        await page.waitForSelector('body[data-map-loaded="true"]', { timeout: 30_000 });
        await fillSignInForm(page, username);
        await page.waitForSelector(waitFor, { timeout });
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * `startWebApp` in the enclosing describe's `beforeAll`, closed in its `afterAll`. Reading the handle
 * before `beforeAll` ran throws; a test file's own `beforeAll` registered after this runs after it.
 */
export function useWebApp(): Omit<WebApp, 'close'> {
  let started: WebApp | undefined;
  beforeAll(async () => {
    started = await startWebApp();
  });
  afterAll(async () => {
    await started?.close();
  });
  const current = (): WebApp => {
    if (!started) throw new Error('the web app is not started yet: use it inside tests or a later beforeAll');
    return started;
  };
  return {
    get baseUrl() { return current().baseUrl; },
    get app() { return current().app; },
    get tdb() { return current().tdb; },
    get browser() { return current().browser; },
    newPage: () => current().newPage(),
    signIn: (username, password) => current().signIn(username, password),
    fetchJson: (token, url, init) => current().fetchJson(token, url, init),
    openSignedIn: (page, username, opts) => current().openSignedIn(page, username, opts),
  };
}
