/**
 * The embedded default database: a PostgreSQL + PostGIS cluster that lives inside the project folder
 * (`.data/pg`, git-ignored) and listens on 127.0.0.1 and a Unix socket only.
 *
 * Used by `npm start`, the test global setup and the `db:*` scripts when `DATABASE_URL` is not set, so
 * that "works on a fresh machine" is one code path for all of them.
 *
 * Why the details below:
 * - PostgreSQL refuses to run as root, so when we are root every server binary runs as the `postgres`
 *   OS user (created by Debian's `postgresql` package) and the cluster's folders belong to it.
 * - `--locale=C.UTF-8`: pg_trgm builds trigrams from characters its LC_CTYPE classifies as alphanumeric;
 *   under the `C` locale Chinese text yields none, and address search finds nothing.
 * - The superuser has a random password kept in `.data/credentials.json` (mode 0600): TCP on 127.0.0.1
 *   with `trust` would let every local user in.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync, chownSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Extensions the schema needs; checked before migrating so a missing one gets a plain message. */
export const REQUIRED_EXTENSIONS = ['postgis', 'pg_trgm', 'btree_gist', 'pgcrypto'] as const;

export interface LocalPostgresPaths {
  /** Folder that holds everything the embedded database writes (`<project>/.data`). */
  root: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  credentialsFile: string;
  portFile: string;
}

export interface LocalPostgres {
  /** Connection string for the given database on this cluster. */
  urlFor(database: string): string;
  port: number;
  /** True when this process started the server (and so should stop it on shutdown). */
  startedHere: boolean;
  paths: LocalPostgresPaths;
  stop(): Promise<void>;
}

export class LocalPostgresError extends Error {
  constructor(
    message: string,
    /** A command the user can run to fix it, printed on its own line. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'LocalPostgresError';
  }
}

interface Binaries {
  binDir: string;
  major: number;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Resolve where the cluster lives. Normally `<project>/.data`; see {@link ensureReachableByPostgres}. */
export function localPostgresPaths(root: string): LocalPostgresPaths {
  return {
    root,
    dataDir: path.join(root, 'pg'),
    socketDir: path.join(root, 'run'),
    logFile: path.join(root, 'log', 'postgres.log'),
    credentialsFile: path.join(root, 'credentials.json'),
    portFile: path.join(root, 'port'),
  };
}

/** Find the newest installed PostgreSQL server binaries (Debian layout first, then PATH). */
export function findServerBinaries(): Binaries | undefined {
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot)
      .map(Number)
      .filter((m) => Number.isInteger(m) && existsSync(path.join(debianRoot, String(m), 'bin', 'initdb')))
      .sort((a, b) => b - a);
    if (majors[0] !== undefined) return { binDir: path.join(debianRoot, String(majors[0]), 'bin'), major: majors[0] };
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const initdb = which.stdout.trim();
  if (which.status === 0 && initdb) {
    const version = spawnSync(initdb, ['--version'], { encoding: 'utf8' }).stdout;
    const major = Number(/(\d+)(?:\.\d+)?/.exec(version)?.[1]);
    if (Number.isInteger(major)) return { binDir: path.dirname(initdb), major };
  }
  return undefined;
}

function postgisInstalled(bins: Binaries): boolean {
  // Debian keeps extension control files per major; elsewhere (Homebrew) next to the binaries' share dir.
  const candidates = [
    `/usr/share/postgresql/${bins.major}/extension/postgis.control`,
    path.join(bins.binDir, '..', 'share', 'postgresql', 'extension', 'postgis.control'),
    path.join(bins.binDir, '..', 'share', `postgresql@${bins.major}`, 'extension', 'postgis.control'),
  ];
  if (candidates.some((c) => existsSync(c))) return true;
  const sharedir = spawnSync(path.join(bins.binDir, 'pg_config'), ['--sharedir'], { encoding: 'utf8' });
  return sharedir.status === 0 && existsSync(path.join(sharedir.stdout.trim(), 'extension', 'postgis.control'));
}

function aptInstall(packages: string[], log: (line: string) => void): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`installing ${packages.join(' ')} with apt-get (running as root)`);
  // A new machine has empty package lists: apt-get install finds nothing before an update.
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) throw new LocalPostgresError('apt-get update failed');
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  if (install.status !== 0) throw new LocalPostgresError(`apt-get install ${packages.join(' ')} failed`);
}

/**
 * Make sure PostgreSQL server binaries and PostGIS are installed: install them with apt-get when root
 * on Debian/Ubuntu, otherwise stop with the exact command to run.
 */
export function ensurePostgresInstalled(log: (line: string) => void = console.log): Binaries {
  let bins = findServerBinaries();
  if (bins && postgisInstalled(bins)) return bins;

  const hasApt = existsSync('/usr/bin/apt-get');
  const postgisPackage = (major: number | string): string => `postgresql-${major}-postgis-3`;
  if (process.platform === 'darwin') {
    throw new LocalPostgresError(
      'PostgreSQL with PostGIS is needed for the embedded database (or set DATABASE_URL).',
      'brew install postgresql@16 postgis && brew link postgresql@16',
    );
  }
  if (!hasApt) {
    throw new LocalPostgresError(
      'PostgreSQL server binaries with PostGIS 3 were not found and this system has no apt-get. Install them with your package manager, or set DATABASE_URL to a PostGIS server.',
    );
  }
  if (!isRoot()) {
    const command = bins
      ? `sudo apt-get update && sudo apt-get install -y ${postgisPackage(bins.major)}`
      : 'sudo apt-get update && sudo apt-get install -y postgresql && sudo apt-get install -y postgresql-$(ls /usr/lib/postgresql | sort -n | tail -1)-postgis-3';
    throw new LocalPostgresError('PostgreSQL server binaries or the PostGIS extension are missing, and installing them needs root.', command);
  }
  if (!bins) {
    aptInstall(['postgresql', 'postgresql-contrib'], log);
    bins = findServerBinaries();
    if (!bins) throw new LocalPostgresError('postgresql was installed but its server binaries were not found under /usr/lib/postgresql');
  }
  if (!postgisInstalled(bins)) aptInstall([postgisPackage(bins.major)], log);
  if (!postgisInstalled(bins)) throw new LocalPostgresError(`PostGIS is still missing after installing ${postgisPackage(bins.major)}`);
  return bins;
}

/** Run a server binary, as the `postgres` OS user when we are root. */
async function runPg(bins: Binaries, tool: string, args: string[], opts: { allowFail?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const exe = path.join(bins.binDir, tool);
  const [cmd, cmdArgs] = isRoot() ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  try {
    const { stdout, stderr } = await execFileAsync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, cwd: os.tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (!opts.allowFail) {
      throw new LocalPostgresError(`${tool} ${args.join(' ')} failed (exit ${String(e.code)}): ${e.stderr ?? ''}${e.stdout ?? ''}`.trim());
    }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function postgresUser(): { uid: number; gid: number } {
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0) throw new LocalPostgresError('running as root, but there is no "postgres" OS user to run PostgreSQL as', 'apt-get install -y postgresql');
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A folder owned by the user the server runs as, mode 0700 (initdb insists on it for the data dir). */
function makeServerDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
}

/**
 * When root, the `postgres` user must be able to reach the cluster folder. A project cloned under a
 * private home (`/root`, mode 0700) is not reachable; then the cluster goes to a per-project folder under
 * /var/tmp instead, named by a hash of the project path, and we say so.
 */
export function resolveClusterRoot(projectRoot: string, log: (line: string) => void = console.log): string {
  const preferred = path.join(projectRoot, '.data');
  if (!isRoot()) return preferred;
  const probe = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', projectRoot], { encoding: 'utf8' });
  if (probe.status === 0) return preferred;
  const hash = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  const fallback = path.join('/var/tmp/wangge', hash);
  log(`the postgres user cannot reach ${projectRoot}; keeping the embedded cluster in ${fallback} instead`);
  mkdirSync(path.dirname(fallback), { recursive: true, mode: 0o755 });
  chmodSync(path.dirname(fallback), 0o755);
  return fallback;
}

async function freePort(preferred?: number): Promise<number> {
  const tryPort = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const addr = srv.address();
        const got = typeof addr === 'object' && addr ? addr.port : undefined;
        srv.close(() => resolve(got));
      });
    });
  if (preferred) {
    const ok = await tryPort(preferred);
    if (ok) return ok;
  }
  const any = await tryPort(0);
  if (!any) throw new LocalPostgresError('no free local TCP port for PostgreSQL');
  return any;
}

interface Credentials {
  user: string;
  password: string;
}

function readCredentials(paths: LocalPostgresPaths): Credentials | undefined {
  if (!existsSync(paths.credentialsFile)) return undefined;
  return JSON.parse(readFileSync(paths.credentialsFile, 'utf8')) as Credentials;
}

async function initCluster(bins: Binaries, paths: LocalPostgresPaths, log: (line: string) => void): Promise<void> {
  log(`creating the embedded PostgreSQL ${bins.major} cluster in ${paths.dataDir}`);
  const creds: Credentials = { user: 'wangge', password: randomBytes(18).toString('base64url') };
  makeServerDir(paths.dataDir);
  makeServerDir(paths.socketDir);
  makeServerDir(path.dirname(paths.logFile));
  const pwFile = path.join(paths.dataDir, '..', `.pw-${process.pid}`);
  writeFileSync(pwFile, creds.password + '\n', { mode: 0o600 });
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(pwFile, uid, gid);
  }
  try {
    await runPg(bins, 'initdb', [
      '-D', paths.dataDir,
      '--username', creds.user,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
    ]);
  } finally {
    rmSync(pwFile, { force: true });
  }
  // Listen on loopback and the project's socket only. Many test files run in parallel, each with a pool.
  const conf = [
    '',
    '# wangge embedded cluster',
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${paths.socketDir}'`,
    'max_connections = 300',
    'shared_buffers = 256MB',
    'work_mem = 32MB',
    'maintenance_work_mem = 256MB',
    "timezone = 'UTC'",
    'log_min_messages = warning',
    '',
  ].join('\n');
  const confPath = path.join(paths.dataDir, 'postgresql.conf');
  writeFileSync(confPath, readFileSync(confPath, 'utf8') + conf);
  writeFileSync(paths.credentialsFile, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
}

/** Parse `postmaster.pid`: line 1 is the PID, line 4 the port. */
function readPostmasterPid(dataDir: string): { pid: number; port: number } | undefined {
  const file = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

/** Whether a process with this PID exists (signal 0 tests without sending anything). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function processIsPostgres(pid: number): boolean {
  if (!processIsAlive(pid)) return false;
  // After a crash and a reboot the PID may belong to an unrelated process now.
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm.startsWith('postgres');
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/**
 * Start (or reuse) the project's cluster and make sure `database` exists. Idempotent: a second caller
 * finds the server running and reuses it; a stale `postmaster.pid` left by a crash is removed.
 */
export async function startLocalPostgres(opts: {
  projectRoot: string;
  database: string;
  log?: (line: string) => void;
}): Promise<LocalPostgres> {
  const log = opts.log ?? ((line: string) => console.log(`[postgres] ${line}`));
  const bins = ensurePostgresInstalled(log);
  const root = resolveClusterRoot(opts.projectRoot, log);
  mkdirSync(root, { recursive: true });
  const paths = localPostgresPaths(root);

  if (!existsSync(path.join(paths.dataDir, 'PG_VERSION'))) {
    rmSync(paths.dataDir, { recursive: true, force: true });
    await initCluster(bins, paths, log);
  } else {
    // The socket and log folders are cheap to recreate if someone cleaned them.
    makeServerDir(paths.socketDir);
    makeServerDir(path.dirname(paths.logFile));
  }
  const creds = readCredentials(paths);
  if (!creds) throw new LocalPostgresError(`the cluster in ${paths.dataDir} has no ${paths.credentialsFile}; remove ${paths.root} to start afresh (npm run db:reset)`);

  let startedHere = false;
  let port: number;
  const running = readPostmasterPid(paths.dataDir);
  if (running && processIsPostgres(running.pid)) {
    port = running.port;
  } else {
    if (running) {
      log(`removing a stale postmaster.pid (PID ${running.pid} is not running)`);
      rmSync(path.join(paths.dataDir, 'postmaster.pid'), { force: true });
    }
    const savedPort = existsSync(paths.portFile) ? Number(readFileSync(paths.portFile, 'utf8')) : undefined;
    port = await freePort(savedPort);
    const result = await runPg(bins, 'pg_ctl', ['-D', paths.dataDir, '-l', paths.logFile, '-w', '-t', '120', '-o', `-p ${port}`, 'start'], { allowFail: true });
    if (result.code !== 0) {
      // Another process may have started it between our check and our start (parallel test runs).
      const now = readPostmasterPid(paths.dataDir);
      if (!now || !processIsPostgres(now.pid)) {
        const tail = existsSync(paths.logFile) ? readFileSync(paths.logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
        throw new LocalPostgresError(`pg_ctl start failed: ${result.stderr}${result.stdout}\n${tail}`);
      }
      port = now.port;
    } else {
      startedHere = true;
      writeFileSync(paths.portFile, String(port));
    }
  }

  const urlFor = (database: string): string =>
    `postgres://${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  await ensureDatabaseExists(urlFor('postgres'), opts.database);

  return {
    urlFor,
    port,
    startedHere,
    paths,
    stop: async () => {
      await runPg(bins, 'pg_ctl', ['-D', paths.dataDir, '-m', 'fast', '-w', 'stop'], { allowFail: true });
    },
  };
}

/** Stop the project's cluster if it runs (for `npm run db:stop` and `db:reset`). */
export async function stopLocalPostgres(projectRoot: string): Promise<boolean> {
  const bins = findServerBinaries();
  if (!bins) return false;
  const paths = localPostgresPaths(resolveClusterRoot(projectRoot, () => undefined));
  const running = readPostmasterPid(paths.dataDir);
  if (!running || !processIsPostgres(running.pid)) return false;
  await runPg(bins, 'pg_ctl', ['-D', paths.dataDir, '-m', 'fast', '-w', 'stop'], { allowFail: true });
  return true;
}

async function ensureDatabaseExists(adminUrl: string, database: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
      } catch (err) {
        // 42P04 duplicate_database: a parallel starter won the race; that is fine.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

