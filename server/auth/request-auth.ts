/**
 * Authentication and authorization for every request, decided per route:
 *
 * - Every route declares `config: { permission }` ('public' | 'authenticated' | a Permission). The
 *   onRoute hook refuses to register one without it, so a new endpoint cannot ship undecided; the
 *   authorization matrix test walks the same table (`app.routePermissions`).
 * - onRequest, before the body is even parsed: bearer token → `request.principal`; anonymous on a
 *   protected route → 401 UNAUTHENTICATED; a missing permission → 403 FORBIDDEN (audited).
 * - Services narrow data to `request.principal.scope`; PostgreSQL enforces it again (db/scoped.ts).
 * - Authenticated principals are cached for seconds (principal-cache.ts). A route that revokes or changes
 *   credentials declares `config: { invalidatesPrincipals: true }`: this process's cache is flushed
 *   before its answer leaves (other processes hear it from PostgreSQL, migrations/0014_auth_notify.sql).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../db/database';
import type { NotificationHub } from '../db/notifications';
import { AppError } from '../http/errors';
import { writeAudit, type AuditActor } from '../modules/audit/audit.service';
import { authenticateHeader } from './authenticate';
import { PrincipalCache, type PrincipalCacheOptions } from './principal-cache';
import { ANONYMOUS, PERMISSIONS, type Permission, type Principal, type RoutePermission } from './principal';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route; required on every route (see server/auth/request-auth.ts). */
    permission?: RoutePermission;
    /** The route revokes or changes credentials: flush this process's principal cache before answering. */
    invalidatesPrincipals?: boolean;
  }
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /** Every registered route with its permission, in registration order (the authorization matrix). */
    routePermissions: RouteEntry[];
    /** Authenticated principals by bearer token (server/auth/principal-cache.ts). */
    principalCache: PrincipalCache;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  permission: RoutePermission;
}

const VALID = new Set<string>(['public', 'authenticated', ...PERMISSIONS]);

export interface AuthRegistration {
  /**
   * Register third-party plugins whose routes cannot carry our config (swagger-ui, static files) as
   * public. Only for plugins serving no data.
   */
  registerPublic(register: () => PromiseLike<unknown>): Promise<void>;
  /** Follow PostgreSQL's credential announcements (without, cached principals are trusted for 1 s only). */
  attach(hub: NotificationHub): void;
}

export function registerAuth(app: FastifyInstance, { db, cache: cacheOptions }: { db: Database; cache?: PrincipalCacheOptions }): AuthRegistration {
  const routes: RouteEntry[] = [];
  let fallback: RoutePermission | undefined;
  const cache = new PrincipalCache(cacheOptions);
  app.decorate('routePermissions', routes);
  app.decorate('principalCache', cache);
  app.decorateRequest('principal', null as unknown as Principal);

  app.addHook('onRoute', (route) => {
    const declared = route.config?.permission ?? fallback;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (declared === undefined || !VALID.has(declared)) {
      throw new Error(`Route ${methods.join(',')} ${route.url} declares no valid config.permission ('public', 'authenticated' or a Permission); decide who may call it (issue #4).`);
    }
    route.config = { ...route.config, permission: declared };
    for (const method of methods) routes.push({ method, url: route.url, permission: declared });
    if (route.config.invalidatesPrincipals) {
      // onSend runs for errors too: a revocation that committed before a later failure still counts.
      const flush = async (): Promise<void> => cache.clear();
      route.onSend = [...(Array.isArray(route.onSend) ? route.onSend : route.onSend ? [route.onSend] : []), flush];
    }
  });

  // Callback style, not async: a cached principal is checked without a promise (the hotline's hot path).
  app.addHook('onRequest', (request, _reply, done) => {
    request.principal = ANONYMOUS;
    let authenticated: Principal | Promise<Principal>;
    try {
      authenticated = authenticateHeader(db, request.headers.authorization, cache);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (authenticated instanceof Promise) {
      authenticated.then((principal) => authorize(request, principal)).then(() => done(), done);
      return;
    }
    let denied: Promise<never> | undefined;
    try {
      denied = authorize(request, authenticated);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (denied) denied.catch(done);
    else done();
  });

  /** Undefined when allowed; throws (or, when the refusal is audited first, rejects) otherwise. */
  function authorize(request: FastifyRequest, principal: Principal): Promise<never> | undefined {
    request.principal = principal;
    // No route matched (404 handler): nothing to protect.
    const permission = request.routeOptions.config.permission ?? 'public';
    if (permission === 'public') return undefined;
    if (principal.kind === 'anonymous') {
      throw new AppError('UNAUTHENTICATED', 401, 'Sign in first: send "Authorization: Bearer <access token>" (POST /api/v1/auth/sign-in).', { reason: 'missing' });
    }
    if (principal.mustChangePassword && permission !== 'authenticated') {
      throw new AppError('PASSWORD_CHANGE_REQUIRED', 403, 'Change your one-time password first (POST /api/v1/auth/password).');
    }
    if (permission === 'authenticated' || principal.permissions.has(permission)) return undefined;
    return writeAudit(db, {
      actor: auditActor(request),
      action: 'access.denied',
      outcome: 'denied',
      details: { method: request.method, route: request.routeOptions.url ?? null, permission },
    }).then(() => {
      throw new AppError('FORBIDDEN', 403, `This needs the permission ${permission}, which your roles (${principal.roles.join(', ') || 'none'}) do not give.`, { permission });
    });
  }

  return {
    attach: (hub) => cache.attach(hub),
    async registerPublic(register) {
      fallback = 'public';
      try {
        await register();
      } finally {
        fallback = undefined;
      }
    },
  };
}

/** A permission a route needs only for some requests (e.g. naming a draft): 401 for anonymous, 403 otherwise. */
export function requireRoutePermission(principal: Principal, permission: Permission): void {
  if (principal.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 401, `Sign in first: this needs the permission ${permission}.`, { reason: 'missing', permission });
  requirePermission(principal, permission);
}

/** For services that check permissions beyond the route's (e.g. unmasking on top of reading). */
export function requirePermission(principal: Principal, permission: Permission): void {
  if (!principal.permissions.has(permission)) throw new AppError('FORBIDDEN', 403, `This needs the permission ${permission}.`, { permission });
}

/** The audit actor of a request: who (user or API token) and from where. */
export function auditActor(request: FastifyRequest): AuditActor {
  const p = request.principal ?? ANONYMOUS;
  return { kind: p.kind, userId: p.userId, name: p.username, ip: request.ip ?? null };
}
