import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_PASSWORD,
  pageReason,
  responseCookie,
  type Server1Harness,
  signIn,
  signOutTokenOf,
  signOutWithForm,
  startServer1,
} from './helpers.js';

const IDLE_MS = 10 * 60_000;
const ABSOLUTE_MS = 60 * 60_000;

const suite = suiteScope();
let server: Server1Harness;

beforeAll(async () => {
  server = await startServer1({
    env: { SESSION_IDLE_TIMEOUT_MS: String(IDLE_MS), SESSION_ABSOLUTE_TIMEOUT_MS: String(ABSOLUTE_MS) },
    scope: suite,
  });
});

/** GET / with exactly this session cookie value (or none). */
function dashboardWith(sessionId: string | undefined) {
  return server.app.inject({ url: '/', cookies: sessionId ? { s1_session: sessionId } : {} });
}

/** A new browser, signed in as `username`; returns its session cookie value. */
async function signedInSession(username = 'alice'): Promise<string> {
  const jar = new CookieJar();
  await signIn(server.app, jar, { username });
  const sessionId = jar.get('s1_session');
  if (!sessionId) throw new Error('sign-in set no session cookie');
  return sessionId;
}

function expectSignedOut(response: Awaited<ReturnType<typeof dashboardWith>>) {
  expect(response.statusCode).toBe(303);
  expect(response.headers.location).toBe('/login?return_to=%2F');
}

describe('GET /', () => {
  it('sends a browser without a session to the login form, with return_to=/', async () => {
    expectSignedOut(await dashboardWith(undefined));
  });

  it('treats an unknown session id like no session', async () => {
    expectSignedOut(await dashboardWith('A'.repeat(43)));
  });

  it('shows the signed-in user their registered clients with the link that starts a handoff', async () => {
    const response = await dashboardWith(await signedInSession());

    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toContain('Signed in as Alice Liddell');
    expect(response.body).toContain(
      '<a class="service-link" href="http://localhost:4002/handoff/start?return_to=%2F">Open server2</a>',
    );
    expect(response.body).toContain(
      '<a class="service-link" href="https://reports.example/auth/start">Open Reports</a>',
    );
  });
});

describe('session fixation', () => {
  it('replaces a session id planted before sign-in with a new one', async () => {
    const jar = new CookieJar();
    const form = await browse(server.app, jar, { url: '/login' });
    const planted = 'attacker-chosen-session-id-aaaaaaaaaaaaaaaa';
    jar.set('s1_session', planted);

    await browse(
      server.app,
      jar,
      formPost('/login', {
        csrf_token: hiddenField(form.body, 'csrf_token'),
        return_to: '/',
        username: 'alice',
        password: DEMO_PASSWORD,
      }),
    );

    const issued = jar.get('s1_session');
    expect(issued).toBeDefined();
    expect(issued).not.toBe(planted);
    expectSignedOut(await dashboardWith(planted));
    expect((await dashboardWith(issued)).statusCode).toBe(200);
  });

  it("ends a live session the browser carried into sign-in, so an attacker's planted session dies", async () => {
    // The attacker signs in as bob and plants that session in the victim's browser.
    const attackerSession = await signedInSession('bob');
    const victim = new CookieJar();
    const form = await browse(server.app, victim, { url: '/login' });
    victim.set('s1_session', attackerSession);

    const response = await browse(
      server.app,
      victim,
      formPost('/login', {
        csrf_token: hiddenField(form.body, 'csrf_token'),
        return_to: '/',
        username: 'alice',
        password: DEMO_PASSWORD,
      }),
    );

    expect(response.statusCode).toBe(303);
    expect(victim.get('s1_session')).not.toBe(attackerSession);
    expectSignedOut(await dashboardWith(attackerSession));
    expect((await dashboardWith(victim.get('s1_session'))).body).toContain('Signed in as Alice Liddell');
  });
});

describe('session timeouts', () => {
  it('ends a session left idle for the idle timeout', async () => {
    const sessionId = await signedInSession();

    server.clock.advance(IDLE_MS);

    expectSignedOut(await dashboardWith(sessionId));
  });

  it('keeps a session alive while it is used within the idle timeout', async () => {
    const sessionId = await signedInSession();

    for (let elapsed = 0; elapsed < 3 * IDLE_MS; elapsed += IDLE_MS / 2) {
      server.clock.advance(IDLE_MS / 2);
      expect((await dashboardWith(sessionId)).statusCode).toBe(200);
    }
  });

  it('ends a session at the absolute timeout however busy it is', async () => {
    const sessionId = await signedInSession();
    const step = IDLE_MS / 2;

    for (let elapsed = step; elapsed < ABSOLUTE_MS; elapsed += step) {
      server.clock.advance(step);
      expect((await dashboardWith(sessionId)).statusCode).toBe(200);
    }
    server.clock.advance(step);

    expectSignedOut(await dashboardWith(sessionId));
  });

  it('keeps a busy session alive when the idle timeout is shorter than a minute', async () => {
    const idleMs = 30_000;
    const short = await startServer1({
      dataDir: server.dataDir,
      env: { SESSION_IDLE_TIMEOUT_MS: String(idleMs) },
      clock: server.clock,
    });
    const jar = new CookieJar();
    await signIn(short.app, jar);

    for (let elapsed = 0; elapsed < 4 * idleMs; elapsed += (2 * idleMs) / 3) {
      short.clock.advance((2 * idleMs) / 3);
      expect((await browse(short.app, jar, { url: '/' })).statusCode).toBe(200);
    }
    short.clock.advance(idleMs);
    expect((await browse(short.app, jar, { url: '/' })).statusCode).toBe(303);
  });

  it('sets the session cookie without Max-Age or Expires: it ends with the browser', async () => {
    const response = await signIn(server.app, new CookieJar());

    const header = [response.headers['set-cookie']]
      .flat()
      .find((cookie) => cookie?.startsWith('s1_session='));
    expect(header).toMatch(/^s1_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(responseCookie(response, 's1_session')).not.toHaveProperty('maxAge');
    expect(responseCookie(response, 's1_session')).not.toHaveProperty('expires');
  });
});

describe('persistence', () => {
  it('keeps sessions across a restart on the same data directory', async () => {
    const sessionId = await signedInSession();
    const restarted = await startServer1({
      dataDir: server.dataDir,
      env: { SESSION_IDLE_TIMEOUT_MS: String(IDLE_MS), SESSION_ABSOLUTE_TIMEOUT_MS: String(ABSOLUTE_MS) },
      clock: server.clock,
    });

    const response = await restarted.app.inject({ url: '/', cookies: { s1_session: sessionId } });

    expect(response.statusCode).toBe(200);
  });
});

describe('cookies of an https deployment', () => {
  it('are Secure and take the __Host- prefix', async () => {
    const https = await startServer1({
      dataDir: server.dataDir,
      env: { PUBLIC_URL: 'https://id.example' },
      clock: server.clock,
    });
    const jar = new CookieJar();
    const form = await browse(https.app, jar, { url: '/login' });
    const signedIn = await browse(
      https.app,
      jar,
      formPost(
        '/login',
        {
          csrf_token: hiddenField(form.body, 'csrf_token'),
          return_to: '/',
          username: 'alice',
          password: DEMO_PASSWORD,
        },
        { origin: 'https://id.example' },
      ),
    );

    expect(responseCookie(form, '__Host-s1_login_csrf')).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
    });
    expect(responseCookie(signedIn, '__Host-s1_session')).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
    });
    expect(responseCookie(signedIn, 's1_session')).toBeUndefined();
    expect((await browse(https.app, jar, { url: '/' })).statusCode).toBe(200);
  });
});

describe('POST /logout', () => {
  it('ends the session, clears the cookie and shows the login form', async () => {
    const jar = new CookieJar();
    await signIn(server.app, jar);
    const sessionId = jar.get('s1_session');

    const response = await signOutWithForm(server.app, jar);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?signed_out=1');
    expect(responseCookie(response, 's1_session')).toMatchObject({ value: '', maxAge: 0, path: '/' });
    expect(jar.get('s1_session')).toBeUndefined();
    expectSignedOut(await dashboardWith(sessionId));
    const loginPage = await browse(server.app, jar, { url: '/login?signed_out=1' });
    expect(loginPage.body).toContain('You have signed out.');
  });

  it('refuses a sign-out from a foreign Origin with 403 csrf_failed and keeps the session', async () => {
    const jar = new CookieJar();
    await signIn(server.app, jar);
    const sessionId = jar.get('s1_session');

    // The form's own token: the Origin check refuses by itself.
    const response = await browse(
      server.app,
      jar,
      formPost(
        '/logout',
        { csrf_token: await signOutTokenOf(server.app, jar) },
        { origin: 'http://localhost:4002' },
      ),
    );

    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
    expect(responseCookie(response, 's1_session')).toBeUndefined();
    expect((await dashboardWith(sessionId)).statusCode).toBe(200);
  });

  it('answers a sign-out without a session with the login form', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/logout' });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?signed_out=1');
  });
});
