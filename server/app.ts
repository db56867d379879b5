/**
 * `buildApp` assembles the HTTP service from a config and an open database, with no side effects on
 * the process (no listen, no signals), so tests build it in-process and use `app.inject`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import cors from '@fastify/cors';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type pg from 'pg';
import { PROJECT_ROOT, type AppConfig } from './config';
import type { Database } from './db/database';
import { NotificationHub } from './db/notifications';
import { registerAuth } from './auth/request-auth';
import { AppError, MAX_PARAM_LENGTH, frameworkErrors, registerErrorHandling } from './http/errors';
import { logSerializers } from './http/log-redaction';
import { registerQueryParameterCheck } from './http/query-parameters';
import { registerRateLimiting } from './http/rate-limit';
import { registerSecurityHeaders } from './http/security-headers';
import { registerValidation } from './http/validation';
import { webCacheHeaders, webFileAt } from './http/web-files';
import { analysisEventRoutes } from './modules/analysis/analysis-events.routes';
import { analysisRoutes } from './modules/analysis/analysis.routes';
import { populationRoutes } from './modules/analysis/population.routes';
import { auditRoutes } from './modules/audit/audit.routes';
import { gridRoutes } from './modules/grids/grid.routes';
import { divisionRoutes } from './modules/divisions/division.routes';
import { exchangeRoutes } from './modules/exchange/exchange.routes';
import { healthRoutes } from './modules/health/health.routes';
import { layoutRoutes } from './modules/layouts/layout.routes';
import { registryRoutes } from './modules/registry/registry.routes';
import { eventRoutes } from './modules/events/event.routes';
import { open311Routes } from './modules/events/open311.routes';
import { metaRoutes } from './modules/meta/meta.routes';
import { ogcRoutes } from './modules/ogc/ogc.routes';
import { tileRoutes } from './modules/tiles/tile.routes';
import { DataChangeAnnouncer } from './db/data-changes';
import { dispatchRoutes } from './modules/dispatch/dispatch.routes';
import { DispatchService } from './modules/dispatch/dispatch.service';
import { authRoutes } from './modules/users/auth.routes';
import { userRoutes } from './modules/users/user.routes';
import { TileService } from './modules/tiles/tile.service';

export interface BuildAppOptions {
  config: AppConfig;
  db: Database;
  /** The pool behind `db`: with it the app LISTENs for data changes and caches tiles (without, no cache). */
  pool?: pg.Pool;
}

const VERSION = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export async function buildApp({ config, db, pool }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel, serializers: logSerializers },
    bodyLimit: config.bodyLimitBytes,
    // Ids in URLs are numeric or short codes; a 2 KB path is already hostile.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    return503OnClosing: true,
    // Client addresses (rate limits, lockout, audit) from X-Forwarded-For only behind a trusted proxy.
    trustProxy: config.trustProxy,
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerErrorHandling(app);
  // First of all hooks: every response carries them, refusals and 404s included (server/http/security-headers.ts).
  const securityHeaders = registerSecurityHeaders(app, { externalBasemap: Boolean(config.basemapStyleUrl) });
  // Schema failures report every problem, not the first, so a client can fix them in one go.
  registerValidation(app);
  // Before any route: unknown query parameters are refused (server/http/query-parameters.ts).
  const queryParameters = registerQueryParameterCheck(app);
  // Before any route: every route must declare its permission, and every request gets its principal.
  const auth = registerAuth(app, { db });
  await registerRateLimiting(app);

  // Without configured origins there is nothing to allow: no CORS hook at all (it costs on every request).
  if (config.corsOrigins.length > 0) await auth.registerPublic(() => queryParameters.registerForeign(() => app.register(cors, { origin: config.corsOrigins })));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Wangge API', version: VERSION, description: 'Grid-based community governance (网格化管理): grids, dispatch, events, analysis.' },
      tags: [{ name: 'system' }, { name: 'auth' }, { name: 'users' }, { name: 'audit' }, { name: 'divisions' }, { name: 'layouts' }, { name: 'grids' }],
    },
  });
  // The web app's files and the API docs page are public documents: the document security headers.
  const registerDocuments = (register: () => PromiseLike<unknown>): Promise<void> =>
    auth.registerPublic(() => securityHeaders.registerDocuments(() => queryParameters.registerForeign(register)));
  await registerDocuments(() => app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true }));
  app.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { db });
  await app.register(metaRoutes, { config, version: VERSION });
  await app.register(authRoutes, { db, config });
  await app.register(userRoutes, { db });
  await app.register(auditRoutes, { db });
  await app.register(divisionRoutes, { db });
  await app.register(layoutRoutes, { db, config });
  // Intake announces new events to the tile caches after commit, coalesced (server/db/data-changes.ts).
  const changes = new DataChangeAnnouncer(db, 50, (err) => app.log.warn({ err }, 'announcing an event change failed'));
  app.addHook('onClose', () => changes.close());
  await app.register(exchangeRoutes, { db, config, eventContext: { onEventsCreated: () => changes.announce('events') } });
  await app.register(gridRoutes, { db, config });
  await app.register(registryRoutes, { db, config });
  await app.register(analysisRoutes, { db });
  await app.register(analysisEventRoutes, { db });
  await app.register(populationRoutes, { db });
  // Before events: intake routes from its in-memory index (kept in sync once the hub below starts).
  const dispatch = new DispatchService(db, { nearestGridM: config.dispatchNearestGridM });
  const eventContext = { onEventsCreated: () => changes.announce('events') };
  await app.register(eventRoutes, { db, config, dispatch, context: eventContext });
  await app.register(open311Routes, { db, config, dispatch, context: eventContext });

  const tiles = new TileService(db, { maxBytes: config.tileCacheMb * 1024 * 1024 });
  await app.register(tileRoutes, { tiles });
  await app.register(ogcRoutes, { db });
  await app.register(dispatchRoutes, { dispatch });
  if (pool) {
    const hub = new NotificationHub(pool, (msg, err) => app.log.warn({ err }, msg));
    auth.attach(hub);
    tiles.attach(hub);
    dispatch.attach(hub);
    app.addHook('onReady', () => hub.start());
    app.addHook('onClose', () => hub.close());
  }

  const webRoot = config.webDistDir && existsSync(path.join(config.webDistDir, 'index.html')) ? config.webDistDir : undefined;
  if (webRoot) {
    // The web app's files are public; the data it loads is protected per API route.
    // Files of a build written after start-up are found by the not-found handler (server/http/web-files.ts).
    const setHeaders = webCacheHeaders(webRoot);
    await registerDocuments(() => app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: 'index.html', cacheControl: false, setHeaders }));
  }

  app.setNotFoundHandler((request, reply) => {
    const isApiPath = /^\/(api|ogc|tiles|open311|health|openapi)/.test(request.url);
    // A file of a newer build than the one listed at start-up (a redeploy without restart).
    const file = webRoot && !isApiPath && (request.method === 'GET' || request.method === 'HEAD') ? webFileAt(webRoot, request.url) : undefined;
    if (file) {
      securityHeaders.setDocumentHeaders(reply);
      return reply.sendFile(file);
    }
    // Client-side routes of the single-page app resolve to index.html.
    if (webRoot && !isApiPath && request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
      securityHeaders.setDocumentHeaders(reply);
      return reply.type('text/html').sendFile('index.html');
    }
    throw new AppError('NOT_FOUND', 404, `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`, { in: 'url', method: request.method, path: request.url.split('?')[0] });
  });

  return app;
}
