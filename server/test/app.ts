/** An in-process app on its own cloned database: the usual fixture of an HTTP test file. */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../app';
import { testConfig, type AppConfig } from '../config';
import { createTestDatabase, type TestDatabase } from './database';

export interface TestApp {
  app: FastifyInstance;
  tdb: TestDatabase;
  /** `app.inject` for tests: the one place where test requests get their credentials (issue #4). */
  inject(options: InjectOptions | string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createTestApp(config: Partial<AppConfig> = {}): Promise<TestApp> {
  const tdb = await createTestDatabase();
  const app = await buildApp({ config: testConfig(config), db: tdb.db, pool: tdb.pool });
  return {
    app,
    tdb,
    inject: (options) => app.inject(typeof options === 'string' ? { method: 'GET', url: options } : options),
    close: async () => {
      await app.close();
      await tdb.drop();
    },
  };
}
