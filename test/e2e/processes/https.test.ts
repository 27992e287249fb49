import { rmSync } from 'node:fs';
import { HSTS_POLICY } from '@jwt-handoff/shared';
import {
  Browser,
  createTestCa,
  freePort,
  handoff,
  parseSetCookie,
  type ServicePair,
  type ServiceProcess,
  signOut,
  startPair,
  startService,
  type TestCa,
  tempDir,
  testAgent,
  within,
} from '@jwt-handoff/testkit';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Both services listening over TLS themselves (TLS_CERT_FILE, TLS_KEY_FILE), each certified by
// its own private CA, and each trusting the other's CA for its calls (TLS_CA_FILE): server2's
// JWKS fetch, server1's service call to server2's API, and server1's back-channel logout.
describe('server1 and server2 over https with private CAs', () => {
  let ca1: TestCa;
  let ca2: TestCa;
  let pair: ServicePair;
  let agent: Agent;
  const alice = { username: 'alice', password: '' };

  beforeAll(async () => {
    ca1 = createTestCa('server1');
    ca2 = createTestCa('server2');
    const names = ['localhost', '127.0.0.1'];
    pair = await startPair({
      https: {
        server1: { ...ca1.issue('server1', names), caFile: ca2.caFile },
        server2: { ...ca2.issue('server2', names), caFile: ca1.caFile },
      },
      server1Env: { LOGOUT_RETRY_BASE_MS: '100', LOGOUT_RETRY_MAX_MS: '400' },
    });
    alice.password = pair.demoPassword;
    // The browser trusts both CAs, as a company's managed browsers would.
    agent = testAgent({ caFiles: [ca1.caFile, ca2.caFile] });
  });

  afterAll(async () => {
    await pair?.close();
    await agent?.close();
    ca1?.remove();
    ca2?.remove();
  });

  it('hands off, shows server2 activity on server1 and signs out over the back-channel, all over https', async () => {
    const browser = new Browser({ dispatcher: agent });
    expect(pair.server2.url).toMatch(/^https:\/\/localhost:\d+$/);

    const run = await handoff(browser, pair.server2.url, alice);
    expect(run.page.status).toBe(200);
    expect(run.page.url).toBe(`${pair.server2.url}/`);
    expect((await browser.fetch('GET', `${pair.server2.url}/me`)).status).toBe(200);

    // server1 -> server2's API with a service token, over https, trusting server2's CA.
    const dashboard = await browser.open(`${pair.server1.url}/`);
    expect(dashboard.body).toContain('Your activity on server2');
    expect(dashboard.body).toMatch(/data-active-sessions>[1-9]/);
    expect(dashboard.body).not.toContain('data-unavailable');

    // server1 -> server2's back-channel logout, over https.
    await signOut(browser, `${pair.server1.url}/`);
    await within(2000, async () => (await browser.fetch('GET', `${pair.server2.url}/me`)).status === 401);
  });

  it('sends HSTS and sets Secure cookies with the __Host- prefix on both services', async () => {
    const browser = new Browser({ dispatcher: agent });

    const start = await browser.fetch('GET', `${pair.server2.url}/handoff/start?return_to=%2F`);
    const login = await browser.fetch('GET', `${pair.server1.url}/login`);

    for (const [page, cookie] of [
      [start, '__Host-s2_handoff'],
      [login, '__Host-s1_login_csrf'],
    ] as const) {
      expect(page.headers.get('strict-transport-security')).toBe(HSTS_POLICY);
      const set = page.headers.getSetCookie().map(parseSetCookie);
      expect(set.map((entry) => entry.name)).toEqual([cookie]);
      expect(set[0]?.attributes).toMatchObject({ secure: true, httponly: true, path: '/' });
      expect(set[0]?.attributes.domain).toBeUndefined();
    }
  });

  it('is refused by a client that does not trust the private CA', async () => {
    await expect(fetch(`${pair.server1.url}/.well-known/jwks.json`)).rejects.toThrow(
      expect.objectContaining({
        cause: expect.objectContaining({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      }),
    );
  });

  describe('a server2 that does not trust server1 CA', () => {
    let untrusting: ServiceProcess;
    let dataDir: string;

    beforeAll(async () => {
      const port = await freePort();
      dataDir = tempDir('server2-no-ca');
      // Its own certificate is fine; only TLS_CA_FILE is missing.
      const own = ca2.issue('server2-no-ca', ['localhost', '127.0.0.1']);
      untrusting = await startService(
        'server2',
        {
          PORT: String(port),
          PUBLIC_URL: `https://localhost:${port}`,
          ISSUER_URL: pair.server1.url,
          JWKS_URL: pair.server2.env.JWKS_URL as string,
          DATA_DIR: dataDir,
          TLS_CERT_FILE: own.certFile,
          TLS_KEY_FILE: own.keyFile,
        },
        { readyPath: '/healthz' },
      );
    });

    afterAll(async () => {
      await untrusting?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('cannot fetch the keys: it stays not ready and says why', async () => {
      await within(5000, async () => untrusting.output().includes('cannot fetch the issuer keys'));
      expect(untrusting.output()).toMatch(/unable to get local issuer certificate|unable to verify/i);

      const ready = await new Browser({ dispatcher: agent }).fetch(
        'GET',
        `https://127.0.0.1:${untrusting.env.PORT}/readyz`,
      );
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toEqual({ status: 'not_ready', reason: 'not_ready' });
    });
  });
});
