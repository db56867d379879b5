import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The web app's import aliases (vite.config.ts), for its unit tests.
const alias = {
  '@contracts': path.resolve(import.meta.dirname, 'server/contracts'),
  '@geo': path.resolve(import.meta.dirname, 'server/geo'),
};

// Two projects: `unit` runs pure code (geo, statistics, generators) with no database;
// `db` runs anything that touches PostGIS, each file in its own database cloned from a
// migrated template (see server/test/global-setup.ts).
export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['server/geo/**/*.test.ts', 'server/**/*.unit.test.ts', 'scripts/**/*.test.ts', 'web/src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'db',
          include: ['server/**/*.db.test.ts', 'server/test/**/*.test.ts', 'web/e2e/**/*.e2e.test.ts'],
          environment: 'node',
          globalSetup: ['server/test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // expect.poll waits for what a page or a server shows eventually; the default second is too
          // short on a loaded 2-core CI machine (a sign-in's scrypt alone can take it). The asserted
          // values are the same; only the patience changes.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
