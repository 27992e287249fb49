// server1 on PostgreSQL when the database goes away and comes back: it fails closed (503
// `store_unavailable`, bounded in time, no stack, no crash), turns not ready, and recovers by
// itself. Against its own PostgreSQL server, which this file stops and starts again, and server1
// as a real process, so that "nothing crashes" means the process is still there.
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { loadConfig, openStores } from '@jwt-handoff/server1';
import { StoreUnavailableError } from '@jwt-handoff/shared';
import { Browser, freePort, runKeysCommand, startService, waitFor } from '@jwt-handoff/testkit';
import { suiteScope, tempDataDir } from '@jwt-handoff/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, pageReason, TEST_CLIENTS } from '../integration/server1/helpers.js';
import { freshDatabase } from './helpers.js';
import { type PostgresServer, startPostgres } from './postgres-server.js';

const TIMEOUT_MS = 1000;

describe('server1 while PostgreSQL is down', () => {
  let postgres: PostgresServer;
  let server1: Awaited<ReturnType<typeof startService>>;
  const browser = new Browser();
  const scope = suiteScope();

  beforeAll(async () => {
    postgres = await startPostgres();
    const port = await freePort();
    server1 = await startService(
      'server1',
      {
        DATABASE_URL: await freshDatabase(postgres),
        DATABASE_TIMEOUT_MS: String(TIMEOUT_MS),
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATA_DIR: tempDataDir('jwt-handoff-outage', scope),
        CLIENTS: JSON.stringify(TEST_CLIENTS),
        SEED_DEMO_USERS: 'true',
        DEMO_PASSWORD,
        // Seeding hashes two passwords with the production scrypt parameters: slow on a busy machine.
      },
      { timeoutMs: 60_000 },
    );
    const form = await browser.open(`${server1.url}/login`);
    const signedIn = await browser.submitForm(form, '/login', { username: 'alice', password: DEMO_PASSWORD });
    expect(signedIn.status).toBe(200);
  });
  afterAll(async () => {
    await server1?.stop();
    await postgres?.destroy();
  });

  /** A request's answer and how long it took (ms). */
  async function timed(method: 'GET' | 'POST', path: string, body?: string, from = browser) {
    const started = Date.now();
    const response = await fetch(`${server1.url}${path}`, {
      method,
      headers: {
        cookie: from.cookies.header(`${server1.url}${path}`) ?? '',
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded', origin: server1.url } : {}),
      },
      body,
      redirect: 'manual',
    });
    return { status: response.status, body: await response.text(), ms: Date.now() - started };
  }

  it('answers 503 store_unavailable within its timeouts, turns not ready, and comes back by itself', async () => {
    // A second browser, signed out, with a login form open.
    const visitor = new Browser();
    const form = await visitor.open(`${server1.url}/login`);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(form.body)?.[1] as string;
    await postgres.stop();

    for (const [method, path, body] of [
      ['GET', '/'],
      [
        'GET',
        '/handoff/authorize?client_id=server2&redirect_uri=http%3A%2F%2Flocalhost%3A4002%2Fhandoff%2Fcallback&state=s',
      ],
      [
        'POST',
        '/login',
        new URLSearchParams({
          csrf_token: csrf,
          return_to: '/',
          username: 'alice',
          password: 'x',
        }).toString(),
      ],
    ] as const) {
      const answer = await timed(method, path, body, method === 'POST' ? visitor : browser);
      expect(answer.status, `${method} ${path}`).toBe(503);
      expect(pageReason(answer.body), `${method} ${path}`).toBe('store_unavailable');
      expect(answer.body).not.toMatch(/\n\s+at |Error:|ECONNREFUSED/);
      expect(answer.ms).toBeLessThan(TIMEOUT_MS + 1500);
    }
    await waitFor(
      '/readyz to turn not ready',
      async () => (await timed('GET', '/readyz')).status === 503,
      5000,
    );
    expect(JSON.parse((await timed('GET', '/readyz')).body)).toEqual({
      status: 'not_ready',
      reason: 'not_ready',
    });
    // Long enough for every background task to run against the stopped database: the key
    // reload (every second), the logout dispatcher (at least every 5 s). None may crash server1.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(server1.pid()).toBeDefined();
    // Liveness does not depend on the database: an orchestrator must not restart server1 for it.
    expect((await timed('GET', '/healthz')).status).toBe(200);
    // The keys are in memory: verifiers keep getting the JWKS.
    expect((await timed('GET', '/.well-known/jwks.json')).status).toBe(200);

    await postgres.start();

    await waitFor(
      '/readyz to be ready again',
      async () => (await timed('GET', '/readyz')).status === 200,
      10_000,
    );
    const dashboard = await timed('GET', '/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toContain('Alice');
    expect(server1.pid()).toBeDefined();
    expect(server1.output()).not.toMatch(/uncaught|unhandled rejection/i);
    // An outage is a warning, not a bug: no error-level line (with its stack) for each request.
    expect(server1.output()).not.toMatch(/"level":(50|60)/);
  });
});

describe('a database that accepts connections and never answers', () => {
  it('fails server1 start within DATABASE_TIMEOUT_MS, as store_unavailable, instead of hanging', async () => {
    const sockets: Socket[] = [];
    const blackhole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const { port } = blackhole.address() as AddressInfo;
    const config = loadConfig({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/server1`,
      DATABASE_TIMEOUT_MS: '500',
    });
    try {
      const started = Date.now();
      const opened = openStores(config, { log: { warn: () => {}, info: () => {} } });

      await expect(opened).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(opened).rejects.toMatchObject({ statusCode: 503 });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });
});

describe('npm run keys with an unreachable DATABASE_URL', () => {
  it('exits 1 naming DATABASE_URL, without a stack', async () => {
    const port = await freePort();

    const run = await runKeysCommand(
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/server1`, DATABASE_TIMEOUT_MS: '500' },
      ['list'],
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toBe('keys: PostgreSQL cannot be reached (DATABASE_URL)\n');
    expect(run.stdout).toBe('');
  });
});
