// A real PostgreSQL 15 for the suite (npm run test:postgres): initdb into a temporary directory,
// pg_ctl start on a free loopback port, stop and start again for the fault tests, removed at the
// end. As root, PostgreSQL refuses to run, so its binaries run as the `postgres` user.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@jwt-handoff/testkit';
import pg from 'pg';

/** Where the binaries are looked for: PG_BIN, else Debian's PostgreSQL 15. */
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A PostgreSQL server this process started. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** A URL to the database `name` on this server. */
  urlOf(name: string): string;
  /** Creates an empty database and resolves with its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server at once (`pg_ctl stop -m immediate`): connections die as in a crash. */
  stop(): Promise<void>;
  /** Starts it again, same port and data. */
  start(): Promise<void>;
  /** Stops it, if running, and removes its directory. */
  destroy(): Promise<void>;
}

/** Throws, naming what to install, when PostgreSQL's binaries are not there. No test is skipped. */
function requireBinaries(): void {
  if (existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'))) return;
  throw new Error(
    `PostgreSQL binaries not found in ${BIN} (set PG_BIN, or apt-get install postgresql-15): ` +
      'test:postgres and the browser suite over https run against a real server and are never skipped',
  );
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when this process is root. */
function run(binary: string, args: readonly string[]): void {
  const command = join(BIN, binary);
  if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' });
  else execFileSync(command, args, { stdio: 'pipe' });
}

/** Initialises and starts a new PostgreSQL server on a free loopback port. */
export async function startPostgres(): Promise<PostgresServer> {
  requireBinaries();
  const root = mkdtempSync(join(tmpdir(), 'jwt-handoff-pg-'));
  // mkdtemp makes a 0700 directory; the postgres user must get through it to its own data.
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dataDir, uid, gid);
  }
  run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = false;

  const server: PostgresServer = {
    url,
    port,
    urlOf: (name) => `postgres://postgres@127.0.0.1:${port}/${name}`,
    createDatabase: (name) => createDatabaseAt(url, name),
    async start() {
      // fsync off: a test server that nobody needs after a crash.
      const options = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
      run('pg_ctl', [
        '-D',
        dataDir,
        '-o',
        options,
        '-l',
        join(dataDir, 'server.log'),
        '-w',
        '-t',
        '30',
        'start',
      ]);
      running = true;
    },
    async stop() {
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await server.stop().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}

/**
 * Creates the database `name` on the server that `adminUrl` (a URL of its `postgres` database)
 * names; resolves with the new database's URL.
 */
export async function createDatabaseAt(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}
