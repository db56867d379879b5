/**
 * Debian packages that tests drive as independent clients (Chromium, GDAL): installed with apt-get when
 * we are root and they are missing, like PostGIS for the database; otherwise a clear message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Make sure `file` exists, installing `packages` if needed; returns false when that is impossible. */
export function ensureDebianPackages(file: string, packages: string[]): boolean {
  if (existsSync(file)) return true;
  if (!isRoot() || !existsSync('/usr/bin/apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const res = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  return res.status === 0 && existsSync(file);
}
