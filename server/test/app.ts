/**
 * An in-process app on its own cloned database: the usual fixture of an HTTP test file.
 *
 * `t.inject` is the one place where test requests get their credentials: an administrator (scope
 * all) by default, or `as: 'planner'` (any role, scope all), `as: 'anonymous'`, or `as: { token }`
 * for a token from `t.userWith({ roles, scope })`, e.g. a grid worker of one grid:
 *
 * @example
 * const worker = await t.userWith({ roles: ['grid_worker'], scope: ['410199001001003'] });
 * const res = await t.inject({ url: '/api/v1/residents?bbox=…', as: worker });
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../app';
import { hashPassword } from '../auth/password';
import type { Role } from '../auth/principal';
import { testConfig, type AppConfig } from '../config';
import { issueSession } from '../modules/users/auth.service';
import { insertUser } from '../modules/users/user.repository';
import { createTestDatabase, type TestDatabase } from './database';

/** The password of every user made by `userWith` (hashed once per test process). */
export const TEST_PASSWORD = 'correct-horse-battery';
let testPasswordHash: Promise<string> | undefined;

export interface TestUser {
  id: number;
  username: string;
  password: string;
  /** An access token of a fresh session. */
  token: string;
  refreshToken: string;
}

export type TestActor = Role | 'anonymous' | { token: string };
export type TestInjectOptions = InjectOptions & { as?: TestActor };

export interface TestApp {
  app: FastifyInstance;
  tdb: TestDatabase;
  config: AppConfig;
  /** `app.inject` with credentials: admin unless `as` says otherwise or an authorization header is given. */
  inject(options: TestInjectOptions | string): Promise<LightMyRequestResponse>;
  /** A user with these roles and scope (division/grid codes, or 'all'; default 'all'), signed in. */
  userWith(opts: { roles: Role[]; scope?: string[] | 'all'; username?: string; mustChangePassword?: boolean }): Promise<TestUser>;
  /** A cached access token of a user holding just this role, scope all. */
  tokenFor(role: Role): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const tdb = await createTestDatabase();
  const config = testConfig(overrides);
  const app = await buildApp({ config, db: tdb.db, pool: tdb.pool });
  let counter = 0;
  const roleTokens = new Map<Role, Promise<string>>();

  const userWith: TestApp['userWith'] = async ({ roles, scope = 'all', username, mustChangePassword = false }) => {
    testPasswordHash ??= hashPassword(TEST_PASSWORD);
    counter += 1;
    const name = username ?? `${roles.join('.').replaceAll('_', '-') || 'nobody'}-${counter}`;
    const user = await insertUser(tdb.db, {
      username: name,
      displayName: name,
      passwordHash: await testPasswordHash,
      roles,
      scope: scope === 'all' ? { all: true, prefixes: [] } : { all: false, prefixes: scope },
      mustChangePassword,
    });
    if (!user) throw new Error(`test user ${name} exists already`);
    const session = await issueSession(tdb.db, user, config);
    return { id: user.id, username: user.username, password: TEST_PASSWORD, token: session.accessToken, refreshToken: session.refreshToken };
  };

  const tokenFor = (role: Role): Promise<string> => {
    let token = roleTokens.get(role);
    if (!token) {
      token = userWith({ roles: [role], username: `test-${role.replaceAll('_', '-')}` }).then((u) => u.token);
      roleTokens.set(role, token);
    }
    return token;
  };

  const inject: TestApp['inject'] = async (options) => {
    const { as = 'admin', ...request } = typeof options === 'string' ? ({ method: 'GET', url: options } as TestInjectOptions) : options;
    const headers = { ...(request.headers ?? {}) };
    const hasAuthorization = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
    if (!hasAuthorization && as !== 'anonymous') {
      headers.authorization = `Bearer ${typeof as === 'string' ? await tokenFor(as) : as.token}`;
    }
    return app.inject({ ...request, headers });
  };

  return {
    app,
    tdb,
    config,
    inject,
    userWith,
    tokenFor,
    close: async () => {
      await app.close();
      await tdb.drop();
    },
  };
}
