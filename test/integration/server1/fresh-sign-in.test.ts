import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { decodeJwt } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEMO_PASSWORD,
  handOff,
  pageReason,
  SERVER2_CALLBACK,
  type Server1Harness,
  signIn,
  signOutTokenOf,
  startServer1,
} from './helpers.js';

let server: Server1Harness;
let alice: CookieJar;

beforeEach(async () => {
  server = await startServer1();
  alice = new CookieJar();
  await signIn(server.app, alice);
});

const VALID = { client_id: 'server2', redirect_uri: SERVER2_CALLBACK, state: 'state-9' };

function authorize(params: Record<string, string>, jar = alice) {
  return browse(server.app, jar, {
    url: `/handoff/authorize?${new URLSearchParams({ ...VALID, ...params })}`,
  });
}

/** The sign-in form a redirect leads to, submitted with `password`; returns the POST's answer. */
async function submitLogin(location: string, password = DEMO_PASSWORD, jar = alice) {
  const form = await browse(server.app, jar, { url: location });
  expect(form.statusCode).toBe(200);
  return browse(
    server.app,
    jar,
    formPost('/login', {
      csrf_token: hiddenField(form.body, 'csrf_token'),
      return_to: hiddenField(form.body, 'return_to'),
      username: /name="username"[^>]*value="([^"]*)"/.exec(form.body)?.[1] || 'alice',
      password,
    }),
  );
}

describe('max_age and prompt are checked before anything happens', () => {
  it.each([
    ['a negative max_age', { max_age: '-1' }],
    ['a fractional max_age', { max_age: '1.5' }],
    ['a word', { max_age: 'soon' }],
    ['an empty max_age', { max_age: '' }],
    ['an exponent', { max_age: '1e3' }],
    ['an eleven-digit max_age', { max_age: '99999999999' }],
  ])('refuses %s with a 400 invalid_max_age page, no redirect', async (_name, params) => {
    const response = await authorize(params);

    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(pageReason(response.body)).toBe('invalid_max_age');
  });

  it('refuses a repeated max_age', async () => {
    const response = await browse(server.app, alice, {
      url: `/handoff/authorize?${new URLSearchParams({ ...VALID })}&max_age=10&max_age=20`,
    });

    expect(response.statusCode).toBe(400);
    expect(pageReason(response.body)).toBe('invalid_max_age');
  });

  it.each(['none', 'consent', 'select_account', 'login consent', 'LOGIN', 'login '])(
    'refuses prompt=%j with a 400 unsupported_prompt page',
    async (prompt) => {
      const response = await authorize({ prompt });

      expect(response.statusCode).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(pageReason(response.body)).toBe('unsupported_prompt');
    },
  );

  it('still refuses an unknown client first, whatever max_age says', async () => {
    const response = await authorize({ client_id: 'evil', max_age: 'x' });

    expect(pageReason(response.body)).toBe('invalid_client');
  });
});

describe('a recent enough sign-in is handed off at once', () => {
  it('mints a token with the sign-in time as auth_time when max_age is not exceeded', async () => {
    const signedInAt = server.clock.nowSec();
    server.clock.advance(299_000);
    const response = await authorize({ max_age: '300' });

    expect(response.statusCode).toBe(200);
    expect(decodeJwt(hiddenField(response.body, 'token')).auth_time).toBe(signedInAt);
  });
});

describe('an older sign-in, or prompt=login, asks for the password again', () => {
  it('sends a session older than max_age to the sign-in form, its username filled in', async () => {
    server.clock.advance(301_000);
    const response = await authorize({ max_age: '300' });

    expect(response.statusCode).toBe(303);
    const location = response.headers.location as string;
    expect(location).toMatch(/^\/login\?reauth=1&return_to=/);
    const form = await browse(server.app, alice, { url: location });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('enter your password again');
    expect(form.body).toMatch(/name="username"[^>]*value="alice"/);
  });

  it('with max_age=0 asks every time', async () => {
    server.clock.advance(1_000);
    expect((await authorize({ max_age: '0' })).statusCode).toBe(303);
  });

  it('with prompt=login asks even right after signing in', async () => {
    const response = await authorize({ prompt: 'login' });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toMatch(/^\/login\?reauth=1&/);
  });

  it('after the password, returns to the request without prompt or max_age and mints auth_time = now', async () => {
    server.clock.advance(3_600_000);
    const asked = await authorize({ prompt: 'login', max_age: '60' });
    const signedIn = await submitLogin(asked.headers.location as string);

    expect(signedIn.statusCode).toBe(303);
    const back = signedIn.headers.location as string;
    expect(back.startsWith('/handoff/authorize?')).toBe(true);
    const params = new URL(back, 'http://x').searchParams;
    expect(params.get('prompt')).toBeNull();
    expect(params.get('max_age')).toBeNull();
    expect(params.get('state')).toBe(VALID.state);
    const page = await browse(server.app, alice, { url: back });
    expect(page.statusCode).toBe(200);
    expect(decodeJwt(hiddenField(page.body, 'token')).auth_time).toBe(server.clock.nowSec());
  });

  it('a wrong password gets no token, and the old session is still not fresh', async () => {
    server.clock.advance(301_000);
    const asked = await authorize({ max_age: '300' });
    const wrong = await submitLogin(asked.headers.location as string, 'not the password');

    expect(wrong.statusCode).toBe(401);
    expect((await authorize({ max_age: '300' })).statusCode).toBe(303);
  });

  it('a browser without a session signs in once, not twice, with prompt=login', async () => {
    const stranger = new CookieJar();
    const asked = await authorize({ prompt: 'login' }, stranger);
    expect(asked.headers.location).toMatch(/^\/login\?return_to=/);
    const signedIn = await submitLogin(asked.headers.location as string, DEMO_PASSWORD, stranger);

    const page = await browse(server.app, stranger, { url: signedIn.headers.location as string });
    expect(page.statusCode).toBe(200);
    expect(hiddenField(page.body, 'token')).toBeTruthy();
  });
});

describe('re-authentication renews the session under a new id', () => {
  it('issues a new session id; the old cookie no longer signs anyone in', async () => {
    const oldId = alice.get('s1_session') as string;
    server.clock.advance(301_000);
    await submitLogin((await authorize({ max_age: '300' })).headers.location as string);
    const newId = alice.get('s1_session') as string;

    expect(newId).toBeTruthy();
    expect(newId).not.toBe(oldId);
    const oldBrowser = new CookieJar();
    oldBrowser.set('s1_session', oldId);
    expect((await browse(server.app, oldBrowser, { url: '/' })).statusCode).toBe(303);
    expect((await browse(server.app, alice, { url: '/' })).statusCode).toBe(200);
  });

  it('keeps the session sid, so the clients it was handed off to stay tied to it', async () => {
    const before = decodeJwt(await handOff(server.app, alice));
    server.clock.advance(301_000);
    await submitLogin((await authorize({ max_age: '300' })).headers.location as string);
    const after = decodeJwt(await handOff(server.app, alice));

    expect(after.sid).toBe(before.sid);
    expect(after.auth_time).toBe((before.auth_time as number) + 301);
  });

  it('changes the sign-out token with the session id', async () => {
    const before = await signOutTokenOf(server.app, alice);
    await submitLogin((await authorize({ prompt: 'login' })).headers.location as string);

    expect(await signOutTokenOf(server.app, alice)).not.toBe(before);
  });

  it('signing in as someone else ends the session and starts a new one with a new sid', async () => {
    const before = decodeJwt(await handOff(server.app, alice));
    const form = await browse(server.app, alice, { url: '/login?reauth=1' });
    await browse(
      server.app,
      alice,
      formPost('/login', {
        csrf_token: hiddenField(form.body, 'csrf_token'),
        return_to: '/',
        username: 'bob',
        password: DEMO_PASSWORD,
      }),
    );
    const after = decodeJwt(await handOff(server.app, alice));

    expect(after.sub).not.toBe(before.sub);
    expect(after.sid).not.toBe(before.sid);
  });

  it('reauth=1 without a session shows the ordinary form', async () => {
    const form = await browse(server.app, new CookieJar(), { url: '/login?reauth=1' });

    expect(form.statusCode).toBe(200);
    expect(form.body).not.toContain('enter your password again');
  });

  it('a signed-in /login without reauth=1 still goes straight back', async () => {
    const response = await browse(server.app, alice, { url: '/login?return_to=/x' });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/x');
  });
});
