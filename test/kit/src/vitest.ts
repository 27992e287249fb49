// The pieces of the kit that need the vitest runner: cleanup registered with the test (or the
// suite) that made something. A separate entry point (`@jwt-handoff/testkit/vitest`), so that the
// benchmarks, which import the kit in plain node, do not load vitest.
import { rmSync } from 'node:fs';
import { afterAll, onTestFinished } from 'vitest';
import { tempDir } from './service-process.js';

/**
 * Where a test resource's cleanup goes. Cleanups run in reverse order of registration, so
 * something made later (an app) goes before what it was made on (its data directory).
 */
export type Scope = (cleanup: () => unknown) => void;

/** The running test's scope (call from a test or a beforeEach): cleaned up when it finishes. */
export const testScope: Scope = (cleanup) => {
  onTestFinished(async () => {
    await cleanup();
  });
};

/**
 * A scope for tests that go on from one another, sharing what a beforeAll made: call it in the
 * body of a describe block (or at the top of a file), hand it to what the beforeAll starts, and it
 * is cleaned up after the block's last test.
 */
export function suiteScope(): Scope {
  const cleanups: Array<() => unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}

/** A fresh, empty temporary directory (a DATA_DIR), removed when `scope` ends. */
export function tempDataDir(prefix: string, scope: Scope = testScope): string {
  const dir = tempDir(prefix);
  scope(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An app under test: fastify's `close` is all this needs of it. */
interface Closable {
  close(): Promise<unknown>;
}

/** One app built for a test, with whatever its starter adds (`extra`). */
export type RunningApp<App, Extra = unknown> = Extra & {
  /** The current instance: {@link RunningApp.restart} replaces it. */
  readonly app: App;
  /** Closes the app now, as a stop of the service would (it is closed when the scope ends anyway). */
  stop(): Promise<void>;
  /** Closes the app and builds a new one the same way (the same data directory, clock, keys). */
  restart(): Promise<void>;
};

/**
 * Builds an app with `build` and closes it when `scope` ends. Start it after making its data
 * directory in the same scope (see {@link tempDataDir}): the app then closes before the
 * directory goes, so nothing is left writing to a removed database.
 */
export async function runningApp<App extends Closable, Extra extends object>(
  build: () => Promise<App>,
  extra: Extra,
  scope: Scope = testScope,
): Promise<RunningApp<App, Extra>> {
  let running: App | undefined;
  scope(() => running?.close());
  let app = await build();
  running = app;
  const stop = async () => {
    const closing = running;
    running = undefined;
    await closing?.close();
  };
  const handle = {
    get app() {
      return app;
    },
    stop,
    async restart() {
      await stop();
      app = await build();
      running = app;
    },
  };
  return Object.assign(handle, extra);
}
