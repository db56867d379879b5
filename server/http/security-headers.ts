/**
 * Security headers on every response, in two policies (OWASP REST Security Cheat Sheet, "Security
 * Headers": most of helmet's headers act on HTML documents and give "little or no security benefits on an
 * API that does not return HTML"):
 *
 * - API answers (JSON, vector tiles, exports; refusals and 404s too) carry the API policy: a CSP that
 *   allows nothing and no framing, X-Frame-Options DENY, nosniff, HSTS, and Cross-Origin-Resource-Policy
 *   (a page elsewhere cannot pull personal data in with a no-cors request). Routes set their own
 *   Cache-Control (no-store for personal data, e.g. the dispatch lookup).
 * - The web app's documents (its page, scripts, styles, MapLibre's worker, whose CSP governs the worker's
 *   own fetches) and the API docs page carry helmet's full document policy.
 *
 * On the hotline's dispatch lookup and on cached tiles the headers were a measured share of the
 * server's work, and of the client's: twelve document headers (~700 bytes, a CSP of 313) cost Node
 * about 5 µs a request to validate and write, against 10 µs for a whole bare Fastify answer (issues #6
 * and #9, "Speed").
 *
 * Both policies are computed once and added to the reply's headers by synchronous onRequest hooks
 * before any route or plugin runs (the API set for every request, the document set on top
 * for document routes): a route that sets one of them itself
 * (swagger-ui's own CSP) overrides it for its answer.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

export interface SecurityHeaderPolicy {
  /** Extra origins (e.g. `https:`) the web app may load map images and styles from. */
  externalBasemap: boolean;
}

/** The helmet options of the web app's documents. */
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

/**
 * The API policy (OWASP REST Security Cheat Sheet): nothing may be loaded, framed or sniffed from an API
 * answer, and other origins' pages may not embed it. HSTS as in the document policy.
 */
export function apiSecurityHeaders(document: SecurityHeaders): SecurityHeaders {
  const hsts = document.set.find(([name]) => name.toLowerCase() === 'strict-transport-security');
  if (!hsts) throw new Error('the document policy sets no Strict-Transport-Security header to share with the API policy');
  return {
    set: [
      ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
      ['Cross-Origin-Resource-Policy', 'same-origin'],
      hsts,
      ['X-Content-Type-Options', 'nosniff'],
      ['X-Frame-Options', 'DENY'],
    ],
    removed: document.removed,
  };
}

export interface SecurityHeaderRegistration {
  /** Register plugins that serve documents (the web app's files, the API docs page): their routes get the document policy. */
  registerDocuments(register: () => PromiseLike<unknown>): Promise<void>;
  /** A handler answering a document outside those plugins (the single-page app's fallback) switches its answer to the document policy. */
  setDocumentHeaders(reply: FastifyReply): void;
}

/**
 * Adds a policy to a reply's own headers (not the raw response's): Fastify passes a reply's headers to
 * Node in one writeHead, and a response that has none of its own set through setHeader keeps no second
 * header table (res.setHeader stores each in one, and writeHead then adds every reply header to it one
 * setHeader at a time; on cached tiles that bookkeeping was the largest part of the headers' cost). A
 * route or plugin setting one of these names itself (reply.header) still overrides it.
 */
function headerWriter({ set }: SecurityHeaders): (reply: FastifyReply) => void {
  const names = set.map(([name]) => name.toLowerCase());
  const values = set.map(([, value]) => value);
  const count = names.length;
  return (reply) => {
    for (let i = 0; i < count; i++) reply.header(names[i] as string, values[i]);
  };
}

/** Every response gets its policy's headers, set by one synchronous hook (registered at the root, before auth). */
export function registerSecurityHeaders(app: FastifyInstance, policy: SecurityHeaderPolicy): SecurityHeaderRegistration {
  const document = computeSecurityHeaders(helmetOptions(policy));
  const api = apiSecurityHeaders(document);
  const setApi = headerWriter(api);
  const setDocument = headerWriter(document);
  let registeringDocuments = false;

  // Every answer starts with the API policy (404s and refusals included); document routes then switch
  // theirs in a route hook decided at registration. (request.routeOptions builds an object on every
  // read: the hot routes do not pay for it here.)
  app.addHook('onRequest', (_request, reply, done) => {
    setApi(reply);
    done();
  });
  const documentHook = (_request: unknown, reply: FastifyReply, done: () => void): void => {
    setDocument(reply);
    done();
  };
  app.addHook('onRoute', (route) => {
    if (!registeringDocuments) return;
    const own = Array.isArray(route.onRequest) ? route.onRequest : route.onRequest ? [route.onRequest] : [];
    route.onRequest = [documentHook, ...own];
  });

  return {
    setDocumentHeaders(reply) {
      // The API policy's headers are all set again by the document policy (same names), so none is left over.
      setDocument(reply);
    },
    async registerDocuments(register) {
      registeringDocuments = true;
      try {
        await register();
      } finally {
        registeringDocuments = false;
      }
    },
  };
}
