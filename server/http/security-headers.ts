/**
 * Security headers (CSP, frame options, nosniff, HSTS, …) on every response: API answers, tiles,
 * dispatch, static files, 404s and refusals alike.
 *
 * Helmet writes them, but once: our policy has no per-request part (no nonces, no directive functions),
 * so its middleware runs at startup against a recording response and the resulting headers are copied
 * onto each response by one synchronous onRequest hook. @fastify/helmet instead rebuilt helmet's
 * middleware (parsing the CSP) in two hooks per request, one of them async, and still ran both on routes
 * marked `helmet: false`; on the hotline's dispatch lookup that was a large share of the server's CPU
 * (issue #6, "Speed").
 *
 * Headers are set on the raw response, as helmet does, before any route or plugin runs: a route that
 * sets one of them itself (swagger-ui's own CSP) overrides it for its answer.
 */
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

export interface SecurityHeaderPolicy {
  /** Extra origins (e.g. `https:`) the web app may load map images and styles from. */
  externalBasemap: boolean;
}

/** The helmet options of the service (one policy for every response). */
export function helmetOptions({ externalBasemap }: SecurityHeaderPolicy): HelmetOptions {
  const external = externalBasemap ? ['https:'] : [];
  return {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // MapLibre creates its workers from our own bundle (setWorkerUrl) and decodes images into blobs.
        workerSrc: ["'self'", 'blob:'],
        imgSrc: ["'self'", 'data:', 'blob:', ...external],
        connectSrc: ["'self'", ...external],
        styleSrc: ["'self'", "'unsafe-inline'"],
        fontSrc: ["'self'", 'data:'],
      },
    },
    crossOriginEmbedderPolicy: false,
  };
}

export interface SecurityHeaders {
  /** Header name → value, as helmet sets them (helmet's own capitalisation). */
  set: ReadonlyArray<readonly [string, string]>;
  /** Headers helmet removes (X-Powered-By). */
  removed: readonly string[];
}

/** Run helmet's middleware once against a recording response: the headers it sets, and those it removes. */
export function computeSecurityHeaders(options: HelmetOptions): SecurityHeaders {
  const set = new Map<string, [string, string]>();
  const removed: string[] = [];
  const res = {
    setHeader(name: string, value: unknown): void {
      if (typeof value !== 'string') throw new Error(`helmet set ${name} to a non-string value; the security headers must be static`);
      set.set(name.toLowerCase(), [name, value]);
    },
    removeHeader(name: string): void {
      set.delete(name.toLowerCase());
      removed.push(name);
    },
  };
  // Helmet throws on a bad option; `next` gets an error from a directive function, else nothing.
  const state: { outcome: 'pending' | 'done' | Error } = { outcome: 'pending' };
  helmet(options)({} as never, res as never, (err?: unknown) => {
    state.outcome = err === undefined || err === null ? 'done' : err instanceof Error ? err : new Error('helmet refused the security header options');
  });
  if (state.outcome !== 'done') throw state.outcome === 'pending' ? new Error('helmet did not finish setting the security headers') : state.outcome;
  return { set: [...set.values()], removed };
}

/** Every response gets the same security headers, set by one synchronous hook (registered at the root, before auth). */
export function registerSecurityHeaders(app: FastifyInstance, policy: SecurityHeaderPolicy): SecurityHeaders {
  const headers = computeSecurityHeaders(helmetOptions(policy));
  const names = headers.set.map(([name]) => name);
  const values = headers.set.map(([, value]) => value);
  const count = names.length;
  app.addHook('onRequest', (_request, reply, done) => {
    const res = reply.raw;
    for (let i = 0; i < count; i++) res.setHeader(names[i] as string, values[i] as string);
    done();
  });
  return headers;
}
