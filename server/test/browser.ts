/**
 * Headless Chromium for browser tests: Debian's `chromium` driven by playwright-core (no browser
 * download). Installed with apt when we are root and it is missing, like PostGIS.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { PROJECT_ROOT } from '../config';
import { ensureDebianPackages } from './system-packages';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const TEST_OUTPUT_DIR = path.join(PROJECT_ROOT, 'test-output');

/** A CJK font so screenshots show Chinese text (users' own browsers have one; a bare server does not). */
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc';

export function ensureChromium(): string {
  if (!ensureDebianPackages(CHROMIUM_PATH, ['chromium'])) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH}. Install it: sudo apt-get update && sudo apt-get install -y chromium fonts-wqy-zenhei`);
  }
  // Without the font only the screenshots suffer (Chinese shows as boxes), so this one may fail quietly.
  ensureDebianPackages(CJK_FONT, ['fonts-wqy-zenhei']);
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
