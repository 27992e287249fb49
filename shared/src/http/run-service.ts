import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/env-reader.js';
import { renderProcessMetricsByDefault } from './metrics.js';

/** Where a service listens. */
export interface ListenOptions {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
}

// A stuck close must not hold the process forever; orchestrators send SIGKILL after ~10 s anyway.
const SHUTDOWN_DEADLINE_MS = 8_000;

/**
 * The process wrapper of a service: builds the app (its metrics registries render the process
 * metrics too), listens, and closes it gracefully (close-with-grace) on SIGTERM, SIGINT and the
 * other terminating signals, and on an uncaught exception or unhandled rejection: it stops
 * taking connections, lets requests in flight finish and closes the stores, within
 * SHUTDOWN_DEADLINE_MS. It exits 0 after a signal; 1 after an error, a failed close or the
 * deadline. A configuration error ends the process with its message (naming the variables) and
 * exit code 1.
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
    renderProcessMetricsByDefault();
    app = await build(config);
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    console.error(
      `${name}: cannot start: ${err instanceof ConfigError ? err.message : (err as Error).stack}`,
    );
    process.exit(1);
  }
  app.log.info({ publicUrl: config.publicUrl }, `${name} is up at ${config.publicUrl}`);

  // It logs through the app's logger: a second signal or error while closing, the deadline
  // passing, an error from close.
  closeWithGrace({ delay: SHUTDOWN_DEADLINE_MS, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.fatal({ err }, `${name} is shutting down after an uncaught error`);
    else app.log.info({ signal }, `${name} is shutting down`);
    await app.close();
  });
}
