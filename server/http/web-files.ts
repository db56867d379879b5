/**
 * The built web app's files (dist/web). @fastify/static lists them once at start-up (`wildcard: false`:
 * one route per file, so an unknown path never reaches the file system and keeps its API 404). A build
 * written while the server runs adds files with new hashed names; `webFileAt` finds those for the
 * not-found handler, so a running server serves a newer build without a restart.
 *
 * Caching: Vite names everything under assets/ by its content hash, so those answers never change and
 * are cached for a year, immutable; index.html (which names the current hashes) is revalidated on every
 * load, so a new build reaches the browser at once.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyReply } from 'fastify';

export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
export const REVALIDATE_CACHE = 'no-cache';

/** The `setHeaders` of the static plugin (and of `reply.sendFile`): cache policy by where the file is. */
export function webCacheHeaders(webRoot: string): (reply: FastifyReply, filePath: string) => void {
  const assets = path.join(path.resolve(webRoot), 'assets') + path.sep;
  return (reply, filePath) => {
    void reply.header('cache-control', path.resolve(filePath).startsWith(assets) ? IMMUTABLE_CACHE : REVALIDATE_CACHE);
  };
}

/**
 * The file under `webRoot` a request URL names, relative to the root, when it exists now and is a
 * regular file; undefined for anything else (a directory, a dotfile, a path leaving the root, a bad
 * escape), which then gets the app's 404 or the single-page app's fallback.
 */
export function webFileAt(webRoot: string, url: string): string | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
  if (!pathname.startsWith('/') || pathname.includes('\0') || pathname.includes('\\')) return undefined;
  const segments = pathname.split('/').filter((s) => s !== '');
  // Dotfiles and dot segments never: @fastify/static ignores dotfiles too.
  if (segments.length === 0 || segments.some((s) => s.startsWith('.'))) return undefined;
  const root = path.resolve(webRoot);
  const file = path.resolve(root, ...segments);
  if (!file.startsWith(root + path.sep)) return undefined;
  try {
    return statSync(file).isFile() ? path.relative(root, file).split(path.sep).join('/') : undefined;
  } catch {
    return undefined;
  }
}
