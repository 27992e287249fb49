import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/env-reader.js';

/** Where a service listens. */
export interface ListenOptions {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
}

// A stuck close must not hold the process forever; orchestrators send SIGKILL after ~10 s anyway.
const SHUTDOWN_DEADLINE_MS = 8_000;

/**
 * The process wrapper of a service: builds the app, listens, and on SIGTERM or SIGINT stops
 * taking connections, lets requests in flight finish and closes the stores. A configuration
 * error ends the process with its message (naming the variables) and exit code 1.
 */
export async function runService(
  name: string,
  loadConfig: () => ListenOptions,
  build: (config: ListenOptions) => Promise<FastifyInstance>,
): Promise<void> {
  let config: ListenOptions;
  let app: FastifyInstance;
  try {
    config = loadConfig();
    app = await build(config);
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    console.error(
      `${name}: cannot start: ${err instanceof ConfigError ? err.message : (err as Error).stack}`,
    );
    process.exit(1);
  }
  app.log.info({ publicUrl: config.publicUrl }, `${name} is up at ${config.publicUrl}`);

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, `${name} is shutting down`);
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
