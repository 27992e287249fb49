import { Browser, type Page, testAgent } from '@jwt-handoff/testkit';
import type { Agent } from 'undici';
import { afterAll, inject } from 'vitest';
import type { TopologyTarget } from './target.js';

/** The demo users' credentials on the target. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A file's way into the topology: its target, and browsers that reach it. */
export interface TopologyClient {
  readonly target: TopologyTarget;
  readonly alice: Credentials;
  readonly bob: Credentials;
  /** A new browser with an empty cookie jar, trusting the run's CA and resolving its names. */
  browser(): Browser;
}

/**
 * The suite's target (provided by global-setup.ts) and browsers for it; their connections are
 * closed after the file's last test.
 */
export function useTopology(): TopologyClient {
  const target = inject('topology');
  const agents: Agent[] = [];
  afterAll(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
  });
  return {
    target,
    alice: { username: 'alice', password: target.demoPassword },
    bob: { username: 'bob', password: target.demoPassword },
    browser() {
      // In the compose run, DNS names the hosts and NODE_EXTRA_CA_CERTS the CA: both options unset.
      const agent = testAgent({
        ...(target.caFile ? { caFiles: [target.caFile] } : {}),
        ...(target.hosts ? { hosts: target.hosts } : {}),
      });
      agents.push(agent);
      return new Browser({ dispatcher: agent });
    },
  };
}

/** The replica nginx sent `page`'s request to: its X-Upstream-Addr header (deploy/nginx/upstream-header.conf). */
export function upstreamOf(page: Page): string {
  const upstream = page.headers.get('x-upstream-addr');
  if (!upstream)
    throw new Error(`no X-Upstream-Addr on ${page.url} (${page.status}): is nginx's snippet included?`);
  return upstream;
}

/**
 * One request from `browser` sent to one replica directly, as if nginx had forwarded it: with the
 * cookies the browser holds for `publicUrl` and, for a POST, `publicUrl` as its Origin. The
 * cookies the replica sets go into the jar for `publicUrl`, as they would through nginx.
 */
export async function atReplica(
  browser: Browser,
  publicUrl: string,
  replicaUrl: string,
  request: { method?: string; path: string; body?: Record<string, string> },
): Promise<Page> {
  const method = request.method ?? (request.body ? 'POST' : 'GET');
  const cookie = browser.cookies.header(publicUrl);
  const page = await browser.fetch(
    method,
    `${replicaUrl}${request.path}`,
    request.body ? new URLSearchParams(request.body).toString() : undefined,
    {
      ...(cookie ? { cookie } : {}),
      ...(method === 'POST' ? { origin: new URL(publicUrl).origin } : {}),
    },
  );
  browser.cookies.store({ url: `${publicUrl}${request.path}`, setCookies: page.headers.getSetCookie() });
  return page;
}

/** Signs `browser` in at server1 through nginx; resolves with the page it ends on. */
export async function signIn(browser: Browser, server1Url: string, credentials: Credentials): Promise<Page> {
  const form = await browser.open(`${server1Url}/login`);
  const page = await browser.submitForm(form, '/login', { ...credentials });
  if (page.status !== 200 || new URL(page.url).pathname === '/login')
    throw new Error(`signing in as ${credentials.username} failed (${page.status} at ${page.url})`);
  return page;
}

/**
 * A handoff token server1 mints for the signed-in `browser`, for server2 and `state`, asked of
 * `server1` (the public URL, or one replica directly with the browser's cookies).
 */
export async function handoffToken(
  browser: Browser,
  target: TopologyTarget,
  state: string,
  server1 = target.server1Url,
): Promise<{ token: string; page: Page }> {
  const query = new URLSearchParams({
    client_id: 'server2',
    redirect_uri: `${target.server2Url}/handoff/callback`,
    state,
  });
  const path = `/handoff/authorize?${query}`;
  const page =
    server1 === target.server1Url
      ? await browser.fetch('GET', `${server1}${path}`)
      : await atReplica(browser, target.server1Url, server1, { path });
  return { token: tokenOn(page), page };
}

/** The handoff token on server1's form_post page; throws, showing the page, when there is none. */
export function tokenOn(page: Page): string {
  const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
  if (!token) throw new Error(`no handoff token on ${page.url} (${page.status}):\n${page.body}`);
  return token;
}

/** The reason code of a refusal: the JSON body's `reason`, or the error page's `data-reason`. */
export function reasonOf(page: Page): string | undefined {
  if (page.headers.get('content-type')?.startsWith('application/json'))
    return (JSON.parse(page.body) as { reason?: string }).reason;
  return /<code data-reason>([^<]+)<\/code>/.exec(page.body)?.[1];
}

/** The `kid` in the protected header of a compact JWS. */
export function kidOf(token: string): string | undefined {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
  return header.kid;
}

/** The status server2's /me gives `browser` at `server2` (200 signed in, 401 not). */
export async function meAt(browser: Browser, target: TopologyTarget, server2: string): Promise<number> {
  const page =
    server2 === target.server2Url
      ? await browser.fetch('GET', `${server2}/me`)
      : await atReplica(browser, target.server2Url, server2, { path: '/me' });
  return page.status;
}
