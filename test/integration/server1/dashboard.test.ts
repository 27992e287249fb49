import { browse, CookieJar } from '@jwt-handoff/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiHandler,
  BILLING,
  clientsWith,
  type FakeClient,
  handOff,
  logCollector,
  type Server1Harness,
  signIn,
  startFakeClient,
  startServer1,
} from './helpers.js';

// The dashboard's "your activity" panels, against fake client APIs on loopback that answer
// whatever a test wants. (The service token these calls carry is pinned in logout.test.ts.)

let server2: FakeClient;
let billing: FakeClient;

beforeEach(async () => {
  [server2, billing] = [await startFakeClient(), await startFakeClient()];
});
afterEach(async () => {
  await Promise.all([server2.close(), billing.close()]);
});

/** A report as server2 writes it, for the user `sub`. */
function report(sub: string): Record<string, unknown> {
  return {
    sub,
    active_sessions: 2,
    last_seen_at: '2029-12-31T23:58:00.000Z',
    sessions: [],
    recent_handoffs: ['2029-12-31T23:57:00.000Z', '2029-12-31T22:00:00.000Z'],
  };
}

/** The user id in an activity API path. */
function subOf(url: string | undefined): string {
  return decodeURIComponent(/^\/api\/users\/([^/]+)\/activity$/.exec(url ?? '')?.[1] ?? '');
}

/** An API answering 200 with `body(sub)` as `contentType`; each call's path goes to `calls`. */
function answering(
  body: (sub: string) => string,
  calls: string[] = [],
  contentType = 'application/json',
): ApiHandler {
  return (request, response) => {
    calls.push(request.url ?? '');
    response.writeHead(200, { 'content-type': contentType }).end(body(subOf(request.url)));
  };
}

/** A JSON answer: server2's report of the user with `change` applied to it. */
const reportWith =
  (change: (report: Record<string, unknown>) => unknown) =>
  (sub: string): string =>
    JSON.stringify(change(report(sub)));

/** server1 with server2 and billing on the fakes, logging at info into a collector. */
async function start(env: Record<string, string> = {}) {
  const logs = logCollector();
  const server = await startServer1({
    env: {
      CLIENTS: clientsWith(server2, billing),
      SERVICE_CALL_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'info',
      ...env,
    },
    logStream: logs.stream,
  });
  return { server, logs };
}

async function signedIn(server: Server1Harness, username = 'alice'): Promise<CookieJar> {
  const jar = new CookieJar();
  await signIn(server.app, jar, { username });
  return jar;
}

/** The dashboard of `jar`, which must render. */
async function dashboard(server: Server1Harness, jar: CookieJar): Promise<string> {
  const response = await browse(server.app, jar, { url: '/' });
  expect(response.statusCode).toBe(200);
  return response.body;
}

/** The panel of `clientId` on a dashboard page, or undefined. */
function panelOf(page: string, clientId: string): string | undefined {
  return new RegExp(`<section class="activity" data-client="${clientId}">[\\s\\S]*?</section>`).exec(
    page,
  )?.[0];
}

describe('an activity API answering 200 with something other than a report', () => {
  const timestamps = (count: number) =>
    Array.from({ length: count }, (_, i) => new Date(Date.UTC(2029, 0, 1) + i * 1000).toISOString());

  it.each<[string, (sub: string) => string, string?]>([
    ['an empty object', () => '{}'],
    ['a report without recent_handoffs', reportWith(({ recent_handoffs: _, ...rest }) => rest)],
    ['a report without active_sessions', reportWith(({ active_sessions: _, ...rest }) => rest)],
    ['a report without sub', reportWith(({ sub: _, ...rest }) => rest)],
    ['recent_handoffs as a string', reportWith((r) => ({ ...r, recent_handoffs: '2029-12-31T23:57:00Z' }))],
    ['recent_handoffs as null', reportWith((r) => ({ ...r, recent_handoffs: null }))],
    ['recent_handoffs as an object', reportWith((r) => ({ ...r, recent_handoffs: { slice: 1 } }))],
    ['recent_handoffs holding numbers', reportWith((r) => ({ ...r, recent_handoffs: [1, 2] }))],
    ['recent_handoffs holding markup', reportWith((r) => ({ ...r, recent_handoffs: ['<b>soon</b>'] }))],
    ['a huge recent_handoffs', reportWith((r) => ({ ...r, recent_handoffs: timestamps(30_000) }))],
    ['active_sessions as a string', reportWith((r) => ({ ...r, active_sessions: '2' }))],
    ['a negative active_sessions', reportWith((r) => ({ ...r, active_sessions: -1 }))],
    ['a fractional active_sessions', reportWith((r) => ({ ...r, active_sessions: 1.5 }))],
    ['last_seen_at as a number', reportWith((r) => ({ ...r, last_seen_at: 1_893_455_880_000 }))],
    ['last_seen_at that is not a time', reportWith((r) => ({ ...r, last_seen_at: 'yesterday' }))],
    ['a report about another user', reportWith((r) => ({ ...r, sub: 'someone-else' }))],
    ['a JSON array', () => '[]'],
    ['a JSON string', () => '"hello"'],
    ['a JSON number', () => '42'],
    ['JSON null', () => 'null'],
    ['truncated JSON', () => '{"sub":'],
    ['text that is not JSON', () => 'OK', 'text/plain'],
    ['an HTML page', () => '<!doctype html><html><body><h1>Welcome</h1></body></html>', 'text/html'],
  ])('renders the dashboard with the panel "unavailable" for %s', async (_what, body, contentType) => {
    const { server } = await start();
    const jar = await signedIn(server);
    await handOff(server.app, jar);
    const calls: string[] = [];
    server2.answerApi(answering(body, calls, contentType));

    const page = await dashboard(server, jar);

    expect(calls).toHaveLength(1);
    expect(page).toContain('Signed in as Alice Liddell');
    expect(panelOf(page, 'server2')).toContain('data-unavailable');
    expect(page).not.toContain('data-active-sessions');
    expect(page).not.toContain('<time>');
  });

  it('renders a report with members it does not read', async () => {
    const { server } = await start();
    const jar = await signedIn(server);
    await handOff(server.app, jar);
    server2.answerApi(answering(reportWith((r) => ({ ...r, next_page: null, tier: 'gold' }))));

    const page = await dashboard(server, jar);

    expect(panelOf(page, 'server2')).toContain('<b data-active-sessions>2</b>');
    expect(page).toContain('<time>2029-12-31T23:57:00.000Z</time>');
    expect(page).not.toContain('data-unavailable');
  });

  it("says where a panel came from: the API route, the service+jwt's decoded claims, the status and time", async () => {
    const { server } = await start();
    const jar = await signedIn(server);
    await handOff(server.app, jar);
    let authorization = '';
    server2.answerApi((request, response) => {
      authorization = request.headers.authorization ?? '';
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(report(subOf(request.url))));
    });

    const panel = panelOf(await dashboard(server, jar), 'server2') ?? '';

    expect(panel).toContain('<code data-route>GET /api/users/:sub/activity</code>');
    expect(panel).toContain('with a <code>service+jwt</code> bearer token');
    expect(panel).toContain('<b data-status>200</b>');
    expect(panel).toMatch(/<b data-duration>\d+ ms<\/b>/);
    const token = authorization.replace(/^Bearer /, '');
    const sent = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
    const shown =
      /<pre id="service-token-server2-claims"><code>([\s\S]*?)<\/code><\/pre>/.exec(panel)?.[1] ?? '';
    expect(JSON.parse(shown.replaceAll('&quot;', '"'))).toEqual(sent);
    expect(sent).toMatchObject({ aud: 'server2', scope: 'activity:read' });
    // The bearer token is still valid for a while: its decoded parts are shown, never the token.
    expect(panel).not.toContain(token.split('.')[2] as string);
  });

  it('logs, with the client id, which part of the answer was wrong', async () => {
    const { server, logs } = await start();
    const jar = await signedIn(server);
    await handOff(server.app, jar);
    server2.answerApi(answering(reportWith(({ recent_handoffs: _, ...rest }) => rest)));

    await dashboard(server, jar);

    const line = logs
      .text()
      .split('\n')
      .find((candidate) => candidate.includes('/recent_handoffs'));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({ client: 'server2', level: 40 });
  });
});

describe('why a panel is unavailable', () => {
  it('is logged with the client id, and neither the address nor the error is in the page', async () => {
    // A client API on a port nothing listens on any more: connecting is refused.
    const gone = await startFakeClient();
    await gone.close();
    const clients = JSON.parse(clientsWith(server2)) as Array<Record<string, unknown>>;
    const { server, logs } = await start({
      CLIENTS: JSON.stringify(clients.map((c) => (c.id === 'server2' ? { ...c, api_url: gone.url } : c))),
    });
    const jar = await signedIn(server);
    await handOff(server.app, jar);

    const page = await dashboard(server, jar);

    expect(panelOf(page, 'server2')).toContain('data-unavailable');
    for (const detail of [
      gone.url,
      new URL(gone.url).host,
      '127.0.0.1',
      'ECONNREFUSED',
      'cannot reach',
      '<!--',
    ]) {
      expect(page).not.toContain(detail);
    }
    const line = logs
      .text()
      .split('\n')
      .find((candidate) => candidate.includes('ECONNREFUSED'));
    expect(line).toBeDefined();
    expect(line).toContain(gone.url);
    expect(JSON.parse(line as string)).toMatchObject({ client: 'server2' });
  });

  it('puts no status or error text of a failing API in the page, only in the log', async () => {
    const { server, logs } = await start();
    const jar = await signedIn(server);
    await handOff(server.app, jar);
    server2.answerApi((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
    });

    const page = await dashboard(server, jar);

    expect(panelOf(page, 'server2')).toContain('data-unavailable');
    expect(page).not.toContain('answered 500');
    expect(page).not.toContain(server2.url);
    expect(logs.text()).toContain(`${server2.url} answered 500`);
  });
});

describe('which clients the activity panel asks', () => {
  it('asks no client before the user has been handed off to one, and says so', async () => {
    const { server } = await start();
    const [server2Calls, billingCalls]: string[][] = [[], []];
    server2.answerApi(
      answering(
        reportWith((r) => r),
        server2Calls,
      ),
    );
    billing.answerApi(
      answering(
        reportWith((r) => r),
        billingCalls,
      ),
    );
    const jar = await signedIn(server);

    const page = await dashboard(server, jar);

    expect(server2Calls).toEqual([]);
    expect(billingCalls).toEqual([]);
    expect(page).toContain('data-no-activity');
    expect(panelOf(page, 'server2')).toBeUndefined();
    expect(panelOf(page, 'billing')).toBeUndefined();
  });

  it('asks only the client the user was handed off to', async () => {
    const { server } = await start();
    const [server2Calls, billingCalls]: string[][] = [[], []];
    server2.answerApi(
      answering(
        reportWith((r) => r),
        server2Calls,
      ),
    );
    billing.answerApi(
      answering(
        reportWith((r) => r),
        billingCalls,
      ),
    );
    const jar = await signedIn(server);
    await handOff(server.app, jar, BILLING);

    const page = await dashboard(server, jar);

    expect(server2Calls).toEqual([]);
    expect(billingCalls).toHaveLength(1);
    expect(panelOf(page, 'billing')).toContain('<b data-active-sessions>2</b>');
    expect(panelOf(page, 'server2')).toBeUndefined();
    expect(page).not.toContain('data-no-activity');
  });

  it("asks the clients any of the user's sessions was handed off to, and never for another user", async () => {
    const { server } = await start();
    const server2Calls: string[] = [];
    server2.answerApi(
      answering(
        reportWith((r) => r),
        server2Calls,
      ),
    );
    const [laptop, phone, bob] = [
      await signedIn(server),
      await signedIn(server),
      await signedIn(server, 'bob'),
    ];
    await handOff(server.app, laptop);

    const onPhone = await dashboard(server, phone);
    const bobs = await dashboard(server, bob);

    expect(panelOf(onPhone, 'server2')).toContain('<b data-active-sessions>2</b>');
    expect(server2Calls).toHaveLength(1);
    expect(bobs).toContain('data-no-activity');
  });
});
