import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  Browser,
  createTestCa,
  freePort,
  type ServiceProcess,
  startService,
  type TestCa,
  tempDir,
  testAgent,
} from '@jwt-handoff/testkit';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningNginx, startNginx } from './nginx.js';

// deploy/nginx's template as written: two replicas of each service, round-robin. This file
// checks what nginx itself does with them: it spreads requests over both replicas, and skips
// one that stops. Each replica here keeps its own SQLite file, so only requests that need no
// shared state are made: server1's JWKS (both replicas sign with the same SIGNING_KEY) and the
// readiness of server2's replicas. Replicas sharing server1's PostgreSQL and server2's Redis
// behind nginx, and the guarantees that need the sharing, are test/topology's suite
// (npm run test:topology).
const SERVER1_HOST = 'id.localtest';
const SERVER2_HOST = 'app.localtest';

describe('two replicas of each service behind nginx', () => {
  let ca: TestCa;
  let nginx: RunningNginx;
  let agent: Agent;
  let server1Url: string;
  let server2Url: string;
  const replicas: { server1: ServiceProcess[]; server2: ServiceProcess[] } = { server1: [], server2: [] };
  const dirs: string[] = [];

  beforeAll(async () => {
    ca = createTestCa('replicas');
    const certificate = ca.issue('nginx', [SERVER1_HOST, SERVER2_HOST]);
    const httpsPort = await freePort();
    server1Url = `https://${SERVER1_HOST}:${httpsPort}`;
    server2Url = `https://${SERVER2_HOST}:${httpsPort}`;
    const signingKey = generateKeyPairSync('ed25519')
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const sessionSecret = randomBytes(32).toString('base64');
    const dataDir = (name: string) => {
      const dir = tempDir(name);
      dirs.push(dir);
      return dir;
    };
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      replicas.server1.push(
        await startService('server1', {
          PORT: String(port),
          PUBLIC_URL: server1Url,
          DATA_DIR: dataDir(`server1-${i}`),
          SIGNING_KEY: signingKey,
          TRUST_PROXY: '1',
        }),
      );
    }
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      replicas.server2.push(
        await startService('server2', {
          PORT: String(port),
          PUBLIC_URL: server2Url,
          ISSUER_URL: server1Url,
          JWKS_URL: `http://127.0.0.1:${replicas.server1[i]?.env.PORT}/.well-known/jwks.json`,
          DATA_DIR: dataDir(`server2-${i}`),
          SESSION_SECRET: sessionSecret,
          TRUST_PROXY: '1',
        }),
      );
    }
    const addresses = (pair: ServiceProcess[]) =>
      [`127.0.0.1:${pair[0]?.env.PORT}`, `127.0.0.1:${pair[1]?.env.PORT}`] as const;
    nginx = await startNginx({
      hosts: { server1: SERVER1_HOST, server2: SERVER2_HOST },
      httpsPort,
      certificate,
      replicas: { server1: addresses(replicas.server1), server2: addresses(replicas.server2) },
    });
    agent = testAgent({
      caFiles: [ca.caFile],
      hosts: { [SERVER1_HOST]: '127.0.0.1', [SERVER2_HOST]: '127.0.0.1' },
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([...replicas.server1, ...replicas.server2].map((replica) => replica.stop()));
    await agent?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    ca?.remove();
  });

  /** The upstream addresses nginx sent `host`'s requests to, from its access log. */
  function upstreamsOf(host: string): Set<string> {
    return new Set(
      nginx
        .accessLog()
        .map((line) => line.split(' '))
        .filter(([logged]) => logged === host)
        .map(([, upstream]) => upstream as string),
    );
  }

  it('spreads requests over both replicas of each service, which answer alike', async () => {
    const browser = new Browser({ dispatcher: agent });
    const jwks = [];
    for (let i = 0; i < 4; i++) jwks.push(await browser.fetch('GET', `${server1Url}/.well-known/jwks.json`));
    const ready = [];
    for (let i = 0; i < 4; i++) ready.push(await browser.fetch('GET', `${server2Url}/readyz`));

    expect(jwks.map((page) => page.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(jwks.map((page) => page.body)).size).toBe(1);
    expect(new Set(jwks.map((page) => page.headers.get('etag'))).size).toBe(1);
    expect(ready.map((page) => page.status)).toEqual([200, 200, 200, 200]);
    const address = (replica: ServiceProcess | undefined) => `127.0.0.1:${replica?.env.PORT}`;
    expect(upstreamsOf(SERVER1_HOST)).toEqual(new Set(replicas.server1.map(address)));
    expect(upstreamsOf(SERVER2_HOST)).toEqual(new Set(replicas.server2.map(address)));
  });

  it('keeps answering when one replica of server1 stops', async () => {
    const browser = new Browser({ dispatcher: agent });
    await replicas.server1[0]?.stop();

    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await browser.fetch('GET', `${server1Url}/.well-known/jwks.json`)).status);
    }

    // nginx retries a GET that could not connect on the other replica (proxy_next_upstream).
    expect(statuses).toEqual([200, 200, 200, 200]);
  });
});
