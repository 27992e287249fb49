import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalKeySource, relyingParty } from '@jwt-handoff/shared';
import { generateTestKey, mintToken, testClock } from '@jwt-handoff/testkit';
import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { handoffClaims, ISSUER_URL } from '../server2/helpers.js';

const SECRET = 'a-test-secret-that-is-32-chars-long!';

/** A bare fastify app with the plugin registered (not yet ready), closed when the test ends. */
async function pluginApp() {
  const dataDir = mkdtempSync(join(tmpdir(), 'relying-recent-'));
  const key = await generateTestKey();
  const clock = testClock();
  const app = Fastify();
  onTestFinished(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await app.register(relyingParty, {
    issuer: ISSUER_URL,
    clientId: 'server2',
    publicUrl: 'http://app.example',
    sessionSecret: SECRET,
    dataDir,
    keySource: createLocalKeySource({ keys: [key.publicJwk] }),
    now: clock.now,
  });
  return { app, key, clock };
}

/** A bare app on the plugin with an API route that demands a sign-in at most 60 s old. */
async function appWithRecentRoute() {
  const { app, key, clock } = await pluginApp();
  app.get(
    '/api/recent',
    { preHandler: app.requireSession({ maxAgeSec: 60, redirect: false }) },
    async () => ({
      ok: true,
    }),
  );
  await app.ready();
  // A session through the plugin's own routes, from a sign-in 30 s ago.
  const start = await app.inject({ url: '/handoff/start?return_to=%2F' });
  const stateCookie = String(start.headers['set-cookie']).split(';')[0] as string;
  const state = new URL(String(start.headers.location)).searchParams.get('state');
  const token = await mintToken(key, handoffClaims(clock, { nonce: state, auth_time: clock.nowSec() - 30 }));
  const callback = await app.inject({
    method: 'POST',
    url: '/handoff/callback',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token }).toString(),
  });
  const complete = await app.inject({
    url: String(callback.headers.location),
    headers: { cookie: stateCookie },
  });
  const session = ([complete.headers['set-cookie']].flat() as string[])
    .map((cookie) => cookie.split(';')[0] as string)
    .find((cookie) => cookie.startsWith('s2_session=')) as string;
  return { app, clock, session };
}

describe('requireSession({ maxAgeSec }) on an API route', () => {
  it('lets a recent sign-in through and answers an older one 401 auth_too_old', async () => {
    const { app, clock, session } = await appWithRecentRoute();

    expect((await app.inject({ url: '/api/recent', headers: { cookie: session } })).statusCode).toBe(200);
    clock.advance(30_000); // 60 s since the sign-in: still within max_age
    expect((await app.inject({ url: '/api/recent', headers: { cookie: session } })).statusCode).toBe(200);
    clock.advance(10_000); // 70 s: past max_age and the 5 s leeway
    const old = await app.inject({ url: '/api/recent', headers: { cookie: session } });
    expect(old.statusCode).toBe(401);
    expect(old.json()).toMatchObject({ reason: 'auth_too_old' });
    // No session at all is still session_missing.
    expect((await app.inject({ url: '/api/recent' })).json()).toMatchObject({ reason: 'session_missing' });
  });

  it.each([-1, 1.5, Number.NaN, 1e10])(
    'refuses maxAgeSec %s when the route is declared',
    async (maxAgeSec) => {
      const { app } = await pluginApp();
      await app.after();
      expect(() => app.requireSession({ maxAgeSec })).toThrow(/"maxAgeSec" must be a whole number/);
    },
  );
});
