/**
 * Headless Chromium for browser tests: Debian's `chromium` driven by playwright-core (no browser
 * download). Installed with apt when we are root and it is missing, like PostGIS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { PROJECT_ROOT } from '../config';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const TEST_OUTPUT_DIR = path.join(PROJECT_ROOT, 'test-output');

/** A CJK font so screenshots show Chinese text (users' own browsers have one; a bare server does not). */
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function aptInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const res = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  if (res.status !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed`);
}

export function ensureChromium(): string {
  const missing = [...(existsSync(CHROMIUM_PATH) ? [] : ['chromium']), ...(existsSync(CJK_FONT) ? [] : ['fonts-wqy-zenhei'])];
  if (missing.length === 0) return CHROMIUM_PATH;
  if (!isRoot() || !existsSync('/usr/bin/apt-get')) {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`Chromium is missing at ${CHROMIUM_PATH}. Install it: sudo apt-get update && sudo apt-get install -y chromium fonts-wqy-zenhei`);
    }
    return CHROMIUM_PATH; // without the font only the screenshots suffer
  }
  aptInstall(missing);
  if (!existsSync(CHROMIUM_PATH)) throw new Error('apt-get install chromium did not provide ' + CHROMIUM_PATH);
  return CHROMIUM_PATH;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh persistent profile per launch, software WebGL (SwiftShader) so MapLibre renders headless. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = ensureChromium();
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'wangge-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--use-gl=angle',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      // This machine has no network: without these Chromium keeps trying to phone home.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(TEST_OUTPUT_DIR, { recursive: true });
  return path.join(TEST_OUTPUT_DIR, `${name}.png`);
}
