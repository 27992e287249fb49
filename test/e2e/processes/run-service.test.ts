import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, tempDir, within } from '@jwt-handoff/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/run-service-app.mjs', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly marker: string;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  output(): string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts the fixture service (fixtures/run-service-app.mjs) in `mode`. */
async function startFixture(mode: 'serve' | 'uncaught' | 'rejection' | 'config'): Promise<Started> {
  const port = await freePort();
  const dir = tempDir('run-service');
  dirs.push(dir);
  const marker = join(dir, 'closed');
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env.PATH ?? '',
      FIXTURE_MODE: mode,
      FIXTURE_PORT: String(port),
      FIXTURE_MARKER: marker,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, marker, exited, output: () => output };
}

/** The JSON log lines (pino) among what the process printed. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits for `exited`, failing after `ms` (and killing the process) rather than hanging. */
async function exitCode(started: Started, ms = 10_000): Promise<number | null> {
  const timer = setTimeout(() => started.child.kill('SIGKILL'), ms);
  try {
    return await started.exited;
  } finally {
    clearTimeout(timer);
  }
}

describe('runService (a real process)', () => {
  it.each([
    ['uncaught', 'an uncaught exception', 'boom from a timer'],
    ['rejection', 'an unhandled rejection', 'boom from a promise'],
  ] as const)('on %s (%s) logs the error, closes the app and exits 1', async (mode, _what, message) => {
    const fixture = await startFixture(mode);

    expect(await exitCode(fixture)).toBe(1);

    const fatal = logLines(fixture.output()).find((line) => line.level === 60);
    expect(fatal?.msg).toBe('fixture is shutting down after an uncaught error');
    expect((fatal?.err as { message?: string } | undefined)?.message).toBe(message);
    expect(readFileSync(fixture.marker, 'utf8')).toBe('closed\n');
  });

  it('on SIGTERM closes the app and exits 0, after serving the process metrics on /metrics', async () => {
    const fixture = await startFixture('serve');
    await within(
      5000,
      async () => (await fetch(`${fixture.url}/healthz`).catch(() => undefined))?.ok === true,
    );

    const metrics = await fetch(`${fixture.url}/metrics`);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total [\d.e+-]+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+$/m);

    fixture.child.kill('SIGTERM');
    expect(await exitCode(fixture)).toBe(0);
    const info = logLines(fixture.output()).find((line) => line.msg === 'fixture is shutting down');
    expect(info?.signal).toBe('SIGTERM');
    expect(readFileSync(fixture.marker, 'utf8')).toBe('closed\n');
  });

  it('on a configuration error prints the message naming the variables and exits 1', async () => {
    const fixture = await startFixture('config');

    expect(await exitCode(fixture)).toBe(1);
    expect(fixture.output()).toContain(
      'fixture: cannot start: invalid configuration:\n  - FIXTURE_PORT must be a port number',
    );
    expect(existsSync(fixture.marker)).toBe(false);
  });
});

describe('the process metrics', () => {
  it('leave no handle that keeps the process alive once the app is closed', async () => {
    // An app serving them is built, scraped and closed: the process must then end by itself.
    const script = `
      import { healthRoutes, MetricsRegistry } from '@jwt-handoff/shared';
      import Fastify from 'fastify';
      for (let i = 0; i < 20; i++) {
        const app = Fastify();
        await app.register(healthRoutes, { isReady: () => true, metrics: new MetricsRegistry({ processMetrics: true }) });
        const body = (await app.inject({ url: '/metrics' })).body;
        if (!body.includes('nodejs_eventloop_lag_seconds')) throw new Error('no process metrics');
        await app.close();
      }
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = { child, exited } as Started;

    expect(await exitCode(started, 10_000)).toBe(0);
  });
});
