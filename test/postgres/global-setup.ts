import type { TestProject } from 'vitest/node';
import { type PostgresServer, startPostgres } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of the suite's shared PostgreSQL server (its `postgres` database). */
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;

/** Starts the PostgreSQL server the suite's files share; each file makes its own databases. */
export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres();
  project.provide('postgresUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.destroy();
}
