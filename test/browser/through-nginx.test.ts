import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { HSTS_POLICY } from '@jwt-handoff/shared';
import { createTestCa } from '@jwt-handoff/testkit';
import { suiteScope, testScope } from '@jwt-handoff/testkit/vitest';
import type { Page, Request } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTarget, startLocalTopology } from '../topology/local-topology.js';
import { launchBrowser, screenshot } from './chromium.js';

// The browser flow as production runs it, on the topology suite's local topology: Chromium talks
// https to nginx, which terminates TLS for id.localtest (server1) and app.localtest (server2) and
// spreads each over two replicas (server1 on PostgreSQL, server2 on Redis), naming the replica
// that answered in X-Upstream-Addr. Chromium resolves the names itself and trusts the run's CA the
// way a user would, through the NSS database of its HOME: every certificate check is real.
// FOREIGN_HOST is a site of this test's own, with a certificate from another CA.
//
// Not the topology's default names: id.jwt-handoff.test and app.jwt-handoff.test are one site to
// Chromium (registrable domain jwt-handoff.test), which would send the Lax cookie with the
// form_post this file checks is cross-site. Each .localtest name is a site of its own.
const HOSTS = { server1: 'id.localtest', server2: 'app.localtest' } as const;
const FOREIGN_HOST = 'elsewhere.localtest';

/** The replica nginx sent `request` to: its response's X-Upstream-Addr (deploy/nginx/upstream-header.conf). */
async function upstreamOf(request: Request | undefined): Promise<string | undefined> {
  const response = await request?.response();
  return (await response?.allHeaders())?.['x-upstream-addr'];
}

/** The `host:port` nginx names a replica by, from the replica's own URL. */
const upstreamAddresses = (replicaUrls: readonly string[]) => replicaUrls.map((url) => new URL(url).host);

describe('the handoff in a real browser, through nginx over https', () => {
  const scope = suiteScope();
  let target: LocalTarget;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;

  beforeAll(async () => {
    const topology = await startLocalTopology({ hosts: HOSTS });
    scope(() => topology.stop());
    target = topology.target;
  }, 120_000);
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });

  /** A fresh Chromium whose NSS database trusts `trustedCaFiles` (default: the run's CA). */
  async function openBrowser(trustedCaFiles = [target.caFile]): Promise<Page> {
    browser = await launchBrowser({ hosts: [...Object.keys(target.hosts), FOREIGN_HOST], trustedCaFiles });
    return browser.context.pages()[0] ?? browser.context.newPage();
  }

  /** From server2's home page, signed out, to server1's form and back, signed in. */
  async function signIn(page: Page, step: string, username = 'alice'): Promise<void> {
    await page.goto(`${target.server2Url}/`);
    expect(page.url()).toMatch(new RegExp(`^${target.server1Url}/login\\?`));
    await screenshot(page, `${step}-login-page`);
    await page.fill('#username', username);
    await page.fill('#password', target.demoPassword);
    await Promise.all([page.waitForURL(`${target.server2Url}/`), page.click('button[type=submit]')]);
    await screenshot(page, `${step}-signed-in-on-server2`);
  }

  async function statusOf(page: Page, url: string): Promise<number | undefined> {
    return (await page.goto(url))?.status();
  }

  it('trusts the run’s CA from its NSS database, and refuses a certificate from another CA', async () => {
    const foreignCa = createTestCa('foreign');
    testScope(() => foreignCa.remove());
    const site = await serveOverHttps(foreignCa.issue('site', [FOREIGN_HOST]));
    testScope(() => new Promise((resolve) => site.close(resolve)));
    const page = await openBrowser();

    expect(await statusOf(page, `${target.server1Url}/login`)).toBe(200);
    await screenshot(page, 'tls-1-trusted-certificate');
    const port = (site.address() as AddressInfo).port;
    await expect(page.goto(`https://${FOREIGN_HOST}:${port}/`)).rejects.toThrow(
      /net::ERR_CERT_AUTHORITY_INVALID/,
    );
    await screenshot(page, 'tls-1-certificate-of-another-ca-refused');
  });

  it('refuses the proxy’s certificate when the NSS database does not hold the run’s CA', async () => {
    const page = await openBrowser([]);

    await expect(page.goto(`${target.server2Url}/`)).rejects.toThrow(/net::ERR_CERT_AUTHORITY_INVALID/);
    await screenshot(page, 'tls-2-untrusted-ca');
  });

  it('signs in at server1 and lands back on server2: the cross-site form_post, then the Lax bounce', async () => {
    const page = await openBrowser();
    const requests: Request[] = [];
    page.on('request', (request) => {
      requests.push(request);
    });

    await signIn(page, 'tls-3');

    expect(await page.textContent('h1')).toContain('Hello, Alice Liddell');
    expect(requests.every((request) => request.url().startsWith('https://'))).toBe(true);
    const callback = requests.find((request) => request.url() === `${target.server2Url}/handoff/callback`);
    const complete = requests.find((request) =>
      request.url().startsWith(`${target.server2Url}/handoff/complete?txn=`),
    );
    // The POST from server1's page is cross-site: Chromium leaves the Lax state cookie out of it.
    // The 303 that answers it makes a top-level GET, which carries the cookie, and completes.
    expect(callback?.method()).toBe('POST');
    expect((await callback?.allHeaders())?.cookie ?? '').not.toContain('__Host-s2_handoff=');
    expect(complete?.method()).toBe('GET');
    expect((await complete?.allHeaders())?.cookie).toContain('__Host-s2_handoff=');
    expect((await browser?.context.cookies(target.server2Url))?.map((c) => c.name)).toEqual([
      '__Host-s2_session',
    ]);

    // nginx sent the callback and the completion, one after the other, to different server2
    // replicas (round-robin; no other request for server2's host comes between them): the parked
    // claims crossed over through Redis. Both server1 replicas answered parts of the sign-in,
    // whose session they share through PostgreSQL.
    const server2Replicas = upstreamAddresses(target.server2Replicas);
    const callbackReplica = await upstreamOf(callback);
    const completeReplica = await upstreamOf(complete);
    expect(server2Replicas).toContain(callbackReplica);
    expect(server2Replicas).toContain(completeReplica);
    expect(completeReplica).not.toBe(callbackReplica);
    const server1Replicas = await Promise.all(
      requests.filter((request) => request.url().startsWith(`${target.server1Url}/`)).map(upstreamOf),
    );
    expect(new Set(server1Replicas)).toEqual(new Set(upstreamAddresses(target.server1Replicas)));
  });

  it('sets only __Host- cookies, Secure and HttpOnly, and sends HSTS, which Chromium then applies', async () => {
    const page = await openBrowser();
    // Plain http to nginx's https port, before any visit: nginx refuses it (400), so a later
    // success can only be Chromium upgrading the URL itself.
    const plainToHttpsPort = `http://${HOSTS.server2}:${new URL(target.server2Url).port}/me`;
    expect(await statusOf(page, plainToHttpsPort)).toBe(400);

    await signIn(page, 'tls-4', 'bob');

    const cookies = (await browser?.context.cookies([target.server1Url, target.server2Url])) ?? [];
    expect(cookies.map((cookie) => `${cookie.domain} ${cookie.name}`)).toEqual(
      expect.arrayContaining([`${HOSTS.server1} __Host-s1_session`, `${HOSTS.server2} __Host-s2_session`]),
    );
    for (const cookie of cookies) {
      // __Host-: Secure, Path=/, and no Domain (host-only, so the domain is the exact host name).
      expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(cookie.name).toMatch(/^__Host-/);
      expect([HOSTS.server1, HOSTS.server2]).toContain(cookie.domain);
    }
    expect(await page.evaluate(() => document.cookie)).toBe('');
    for (const url of [`${target.server1Url}/`, `${target.server2Url}/`]) {
      const response = await page.goto(url);
      expect(response?.headers()['strict-transport-security']).toBe(HSTS_POLICY);
    }
    await screenshot(page, 'tls-4-server1-dashboard');

    // HSTS is per host name, whatever the port: the same http URL now goes out as https.
    expect(await statusOf(page, plainToHttpsPort)).toBe(200);
    expect(page.url()).toBe(`${target.server2Url}/me`);
  });

  it('signs out at server1, and the back-channel ends the session on server2', async () => {
    const page = await openBrowser();
    await signIn(page, 'tls-5');
    expect(await statusOf(page, `${target.server2Url}/me`)).toBe(200);

    await page.goto(`${target.server1Url}/`);
    await screenshot(page, 'tls-5-server1-dashboard');
    await Promise.all([
      page.waitForURL(/\/login\?signed_out=1/),
      page.click('form[action="/logout"] button'),
    ]);
    await screenshot(page, 'tls-5-signed-out-of-server1');

    expect((await browser?.context.cookies(target.server1Url))?.map((c) => c.name)).not.toContain(
      '__Host-s1_session',
    );
    // server1 told server2, through nginx by its public name, and the replica that answered
    // removed the session from Redis for both.
    await expect.poll(() => statusOf(page, `${target.server2Url}/me`), { timeout: 5000 }).toBe(401);
    await page.goto(`${target.server2Url}/`);
    expect(page.url()).toMatch(new RegExp(`^${target.server1Url}/login`));
    await screenshot(page, 'tls-5-server2-asks-to-sign-in-again');
  });
});

/** An https server answering every request with a page, with `certificate` (another CA's). */
async function serveOverHttps(certificate: { certFile: string; keyFile: string }): Promise<Server> {
  const server = createServer(
    { cert: readFileSync(certificate.certFile), key: readFileSync(certificate.keyFile) },
    (_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<h1>A site whose certificate another CA issued</h1>');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
