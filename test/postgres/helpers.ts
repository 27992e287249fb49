import { randomBytes } from 'node:crypto';
import { loadConfig, openStores, type Server1Stores } from '@jwt-handoff/server1';
import { type TestClock, testClock } from '@jwt-handoff/testkit';
import { type Scope, tempDataDir, testScope } from '@jwt-handoff/testkit/vitest';
import { inject } from 'vitest';
import { type Server1Harness, startServer1 } from '../integration/server1/helpers.js';
import { createDatabaseAt, type PostgresServer } from './postgres-server.js';

/** A new, empty database on the suite's PostgreSQL server (or on `server`); resolves with its URL. */
export async function freshDatabase(server?: PostgresServer): Promise<string> {
  const name = `s1_${randomBytes(6).toString('hex')}`;
  return server ? server.createDatabase(name) : createDatabaseAt(inject('postgresUrl'), name);
}

/**
 * server1's stores as a replica opens them on `databaseUrl` (every store through the same code
 * as buildApp), closed when `scope` ends. Two calls on one URL are two replicas' pools.
 */
export async function openReplicaStores(
  databaseUrl: string,
  env: Record<string, string> = {},
  scope: Scope = testScope,
): Promise<Server1Stores> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    DATA_DIR: tempDataDir('jwt-handoff-pg', scope),
    ...env,
  });
  const quiet = { warn: () => {}, info: () => {} };
  const stores = await openStores(config, { log: quiet });
  scope(() => stores.close());
  return stores;
}

/** Two server1 apps (A and B) on one PostgreSQL database and one clock: two replicas. */
export interface Replicas {
  readonly a: Server1Harness;
  readonly b: Server1Harness;
  readonly clock: TestClock;
  readonly databaseUrl: string;
}

/**
 * Starts two server1 replicas on `databaseUrl` (default: a fresh database), with `env` on top of
 * the integration tests' environment. They start together, as replicas of one deployment do.
 */
export async function startReplicas(
  options: { env?: Record<string, string>; databaseUrl?: string; clock?: TestClock; scope?: Scope } = {},
): Promise<Replicas> {
  const databaseUrl = options.databaseUrl ?? (await freshDatabase());
  const clock = options.clock ?? testClock();
  const scope = options.scope ?? testScope;
  const env = { DATABASE_URL: databaseUrl, ...options.env };
  const [a, b] = await Promise.all([
    startServer1({ env, clock, scope }),
    startServer1({ env, clock, scope }),
  ]);
  return { a, b, clock, databaseUrl };
}

/** How many rows `table` holds in the database at `url`, read as another process would. */
export async function rowCount(url: string, table: string): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  } finally {
    await client.end();
  }
}
