import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort, within } from '@jwt-handoff/testkit';
import { tempDataDir } from '@jwt-handoff/testkit/vitest';
import { afterEach, describe, expect, it } from 'vitest';

// `npm start` is what a new user runs first: scripts/demo.mjs, on ports of the test's choosing.
const DEMO = fileURLToPath(new URL('../../../scripts/demo.mjs', import.meta.url));

interface Demo {
  readonly child: ChildProcess;
  readonly urls: { server1: string; server2: string; billing: string };
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

const running: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function startDemo(ports: { server1: number; server2: number; billing: number }): Promise<Demo> {
  const urls = {
    server1: `http://localhost:${ports.server1}`,
    server2: `http://localhost:${ports.server2}`,
    billing: `http://localhost:${ports.billing}`,
  };
  const child = spawn(process.execPath, [DEMO], {
    env: {
      PATH: process.env.PATH ?? '',
      SERVER1_PUBLIC_URL: urls.server1,
      SERVER2_PUBLIC_URL: urls.server2,
      BILLING_PUBLIC_URL: urls.billing,
      DEMO_DATA_DIR: tempDataDir('demo'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, urls, exited, stdout: () => stdout, stderr: () => stderr };
}

/** A server of someone else's on `port` that answers every request 200, /readyz included. */
async function impostor(port: number): Promise<void> {
  const server = createServer((_request, response) => response.end('{"status":"ready"}'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

describe('npm start (scripts/demo.mjs)', () => {
  it('refuses a port that another server answers on: exit 1, one line naming the port, no banner', async () => {
    const ports = { server1: await freePort(), server2: await freePort(), billing: await freePort() };
    await impostor(ports.server2);

    const demo = await startDemo(ports);

    expect(await demo.exited).toBe(1);
    expect(demo.stderr().trim().split('\n')).toEqual([
      `npm start: port ${ports.server2} is taken (needed by server2)`,
    ]);
    expect(demo.stdout()).toBe('');
  }, 30_000);

  it('starts server1, server2 and the billing app, prints all three URLs, and stops them all', async () => {
    const ports = { server1: await freePort(), server2: await freePort(), billing: await freePort() };
    const demo = await startDemo(ports);
    await within(45_000, async () => demo.stdout().includes('Press Ctrl-C to stop.'));

    expect(demo.stdout()).toContain(`server2 (relying):  ${demo.urls.server2}`);
    expect(demo.stdout()).toContain(`billing (relying):  ${demo.urls.billing}`);
    expect(demo.stdout()).toContain('handoff tokens:     live 30 s');
    expect((await fetch(`${demo.urls.server2}/readyz`)).status).toBe(200);
    // The billing app is registered at server1: its authorize request goes on to sign-in, not to a 400.
    const authorize = new URL('/handoff/authorize', demo.urls.server1);
    authorize.search = new URLSearchParams({
      client_id: 'billing',
      redirect_uri: `${demo.urls.billing}/handoff/callback`,
      state: 'a-state-of-the-test',
    }).toString();
    const toSignIn = await fetch(authorize, { redirect: 'manual' });
    expect(toSignIn.status).toBe(303);
    expect(toSignIn.headers.get('location')).toMatch(/^\/login\?return_to=/);
    expect((await fetch(`${demo.urls.billing}/me`)).status).toBe(401);

    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
    for (const url of Object.values(demo.urls)) {
      await expect(fetch(`${url}/readyz`)).rejects.toThrow();
    }
  }, 90_000);
});
