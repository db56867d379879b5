/** An in-process app on its own cloned database: the usual fixture of an HTTP test file. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app';
import { testConfig, type AppConfig } from '../config';
import { createTestDatabase, type TestDatabase } from './database';

export interface TestApp {
  app: FastifyInstance;
  tdb: TestDatabase;
  close(): Promise<void>;
}

export async function createTestApp(config: Partial<AppConfig> = {}): Promise<TestApp> {
  const tdb = await createTestDatabase();
  const app = await buildApp({ config: testConfig(config), db: tdb.db });
  return {
    app,
    tdb,
    close: async () => {
      await app.close();
      await tdb.drop();
    },
  };
}
