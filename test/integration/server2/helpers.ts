import { createHmac, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { buildApp, loadConfig, type Server2Config } from '@jwt-handoff/server2';
import { createLocalKeySource, type KeySource, KeySourceUnavailableError } from '@jwt-handoff/shared';
import {
  type Claims,
  findForm,
  generateTestKey,
  InjectBrowser,
  mintToken,
  type TestClock,
  type TestKey,
  testClock,
  withOverrides,
} from '@jwt-handoff/testkit';
import { type RunningApp, runningApp, type Scope, tempDataDir, testScope } from '@jwt-handoff/testkit/vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

export type Response = LightMyRequestResponse;

/** server1's URL as server2 is configured with it: the exact `iss` and where browsers sign in. */
export const ISSUER_URL = 'http://localhost:4001';
/** server2's own URL. */
export const PUBLIC_URL = 'http://localhost:4002';
export const CLIENT_ID = 'server2';

/**
 * The claims server1 puts in a handoff token issued now (docs/design.md section 3). `overrides`
 * replace members; a member set to `undefined` is left out.
 */
export function handoffClaims(clock: TestClock, overrides: Claims = {}): Claims {
  const iat = clock.nowSec();
  const claims: Claims = {
    iss: ISSUER_URL,
    aud: CLIENT_ID,
    sub: 'user-alice',
    jti: randomUUID(),
    nonce: 'state-of-no-browser',
    iat,
    exp: iat + 60,
    auth_time: iat - 30,
    name: 'Alice Example',
    email: 'alice@example.test',
    sid: 'sid-hash-alice',
  };
  return withOverrides(claims, overrides);
}

/** The scope server2's activity API asks for (docs/design.md section 2). */
export const ACTIVITY_SCOPE = 'activity:read';

/**
 * The claims of a service token server1 mints now to call server2's API (docs/design.md sections 2
 * and 3): sub is the calling service, exp = iat + 60 s. `overrides` work as in
 * {@link handoffClaims}.
 */
export function serviceClaims(clock: TestClock, overrides: Claims = {}): Claims {
  const iat = clock.nowSec();
  return withOverrides(
    {
      iss: ISSUER_URL,
      sub: 'server1',
      aud: CLIENT_ID,
      scope: ACTIVITY_SCOPE,
      jti: randomUUID(),
      iat,
      exp: iat + 60,
    },
    overrides,
  );
}

/**
 * The claims of a logout token server1 mints now (OpenID Connect Back-Channel Logout 1.0 shape,
 * docs/design.md section 3): the back-channel logout event, exp = iat + 120 s, and `sub: user-alice`
 * with no sid. `overrides` work as in {@link handoffClaims}.
 */
export function logoutClaims(clock: TestClock, overrides: Claims = {}): Claims {
  const iat = clock.nowSec();
  return withOverrides(
    {
      iss: ISSUER_URL,
      aud: CLIENT_ID,
      sub: 'user-alice',
      jti: randomUUID(),
      iat,
      exp: iat + 120,
      // Spelled out rather than imported, so that a wrong constant in shared would not pass.
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    },
    overrides,
  );
}

/** A running (un-listened) server2 and what the test needs to drive it. */
export type Server2Harness = RunningApp<
  FastifyInstance,
  {
    readonly config: Server2Config;
    readonly clock: TestClock;
    /** server1's signing key, whose public half server2 trusts. */
    readonly key: TestKey;
    readonly dataDir: string;
    /** A handoff token signed by {@link Server2Harness.key}, issued at the clock's time. */
    mint(overrides?: Claims, header?: Record<string, unknown>): Promise<string>;
    /** A service token (typ service+jwt, {@link serviceClaims}) signed by the key, issued now. */
    mintService(overrides?: Claims, header?: Record<string, unknown>): Promise<string>;
    /** A logout token (typ logout+jwt, {@link logoutClaims}) signed by the key, issued now. */
    mintLogout(overrides?: Claims, header?: Record<string, unknown>): Promise<string>;
  }
>;

export interface HarnessOptions {
  /** Environment on top of the test defaults (PUBLIC_URL, ISSUER_URL, CLIENT_ID, DATA_DIR). */
  env?: Record<string, string>;
  /** Replaces the local key source over {@link Server2Harness.key}. */
  keySource?: KeySource;
  /** server1's signing key ({@link Server2Harness.key}); default: one generated for the test. */
  key?: TestKey;
  /** The clock to run on (default: a new {@link testClock}); share server1's to run along its timeline. */
  clock?: TestClock;
  logStream?: NodeJS.WritableStream;
  /** Where the cleanup goes (default: the running test); {@link suiteScope} for a server the tests of a block share. */
  scope?: Scope;
}

/**
 * Builds server2 with `buildApp(loadConfig(env), deps)` on a fresh DATA_DIR, trusting a key
 * generated for the test; closed, then its DATA_DIR removed, when `options.scope` (by default the
 * test) ends. `restart()` builds it again on the same DATA_DIR, key and clock.
 */
export async function startServer2(options: HarnessOptions = {}): Promise<Server2Harness> {
  const scope = options.scope ?? testScope;
  const dataDir = tempDataDir('server2-it', scope);
  const key = options.key ?? (await generateTestKey());
  const clock = options.clock ?? testClock();
  const config = loadConfig({
    PUBLIC_URL,
    ISSUER_URL,
    CLIENT_ID,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const deps = {
    now: clock.now,
    keySource: options.keySource ?? createLocalKeySource({ keys: [key.publicJwk] }),
    ...(options.logStream ? { logStream: options.logStream } : {}),
  };
  return runningApp(
    () => buildApp(config, deps),
    {
      config,
      clock,
      key,
      dataDir,
      mint: (overrides: Claims = {}, header: Record<string, unknown> = {}) =>
        mintToken(key, handoffClaims(clock, overrides), 'handoff+jwt', header),
      mintService: (overrides: Claims = {}, header: Record<string, unknown> = {}) =>
        mintToken(key, serviceClaims(clock, overrides), 'service+jwt', header),
      mintLogout: (overrides: Claims = {}, header: Record<string, unknown> = {}) =>
        mintToken(key, logoutClaims(clock, overrides), 'logout+jwt', header),
    },
    scope,
  );
}

/** A browser talking to server2 through `inject`: its requests carry its cookies. */
export class Browser extends InjectBrowser {
  constructor(server: Server2Harness) {
    super(server, PUBLIC_URL);
  }
}

/** GET /handoff/start in `browser`; returns the response and the state sent to server1. */
export async function startHandoff(
  browser: Browser,
  returnTo?: string,
): Promise<{ response: Response; state: string }> {
  const query = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`;
  const response = await browser.get(`/handoff/start${query}`);
  return { response, state: stateOf(response) };
}

/** The state a /handoff/start response sends to server1's authorize endpoint. */
export function stateOf(start: Response): string {
  expect(start.statusCode).toBe(303);
  const state = new URL(String(start.headers.location)).searchParams.get('state');
  expect(state).toBeTruthy();
  return state as string;
}

/**
 * server1's self-submitting page posting the token: a cross-site POST, so no SameSite=Lax cookie
 * of server2 comes with it, only server1's Origin.
 */
export function postCallback(server: Server2Harness, token: string): Promise<Response> {
  return server.app.inject({
    method: 'POST',
    url: '/handoff/callback',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ISSUER_URL },
    payload: new URLSearchParams({ token }).toString(),
  });
}

/** The txn of a callback's redirect to /handoff/complete. */
export function txnOf(callback: Response): string {
  expect(callback.statusCode).toBe(303);
  const location = new URL(String(callback.headers.location), PUBLIC_URL);
  expect(location.pathname).toBe('/handoff/complete');
  const txn = location.searchParams.get('txn');
  expect(txn).toBeTruthy();
  return txn as string;
}

export interface SignedIn {
  readonly state: string;
  readonly token: string;
  readonly txn: string;
  /** The response of GET /handoff/complete. */
  readonly response: Response;
}

/**
 * The whole handoff of docs/design.md section 1 in `browser`, with server1's part played by minting
 * a token whose nonce is the browser's state. Asserts nothing about the final response.
 */
export async function signIn(
  server: Server2Harness,
  browser: Browser,
  options: { returnTo?: string; claims?: Claims } = {},
): Promise<SignedIn> {
  const { state } = await startHandoff(browser, options.returnTo);
  const token = await server.mint({ nonce: state, ...options.claims });
  const txn = txnOf(await postCallback(server, token));
  const response = await browser.get(`/handoff/complete?txn=${encodeURIComponent(txn)}`);
  return { state, token, txn, response };
}

/** The fields of the sign-out form on the home page of `browser` (its hidden `csrf_token`). */
export async function signOutForm(browser: Browser): Promise<Record<string, string>> {
  const home = await browser.get('/');
  expect(home.statusCode).toBe(200);
  return findForm(home.body, '/logout').fields;
}

/** Presses the sign-out button of the home page, like a user would; returns the POST's response. */
export async function signOut(browser: Browser): Promise<Response> {
  return browser.postForm('/logout', await signOutForm(browser));
}

/** The body of a JSON error response, checked to be `{error, reason}` with the given reason. */
export function expectJsonError(response: Response, status: number, reason: string): { error: string } {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = response.json() as { error: unknown; reason: unknown };
  expect(body).toEqual({ error: expect.any(String), reason });
  return body as { error: string };
}

/** An HTML error page carrying `reason` in its `<code data-reason>` element. */
export function expectErrorPage(response: Response, status: number, reason: string): void {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.body).toContain(`<code data-reason>${reason}</code>`);
}

/** A key source in an outage: every key lookup fails with KeySourceUnavailableError. */
export function unavailableKeySource(): KeySource {
  const down = () => {
    throw new KeySourceUnavailableError('JWKS endpoint unreachable');
  };
  return { getKey: down, isReady: () => false, refresh: async () => down() };
}

/**
 * server1 calling `GET /api/users/{sub}/activity`; `authorization` is the whole header value,
 * left out when undefined.
 */
export function getActivity(server: Server2Harness, sub: string, authorization?: string): Promise<Response> {
  return server.app.inject({
    method: 'GET',
    url: `/api/users/${encodeURIComponent(sub)}/activity`,
    headers: authorization === undefined ? {} : { authorization },
  });
}

/**
 * server1's back-channel delivery: a server-to-server form post of `fields` (usually
 * `{logout_token}`) to POST /backchannel-logout, with no browser and so no cookie or Origin.
 */
export function postBackchannelLogout(
  server: Server2Harness,
  fields: Record<string, string>,
  contentType = 'application/x-www-form-urlencoded',
): Promise<Response> {
  return server.app.inject({
    method: 'POST',
    url: '/backchannel-logout',
    headers: { 'content-type': contentType },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** The lines of GET /metrics. */
export async function metricLines(server: Server2Harness): Promise<string[]> {
  const response = await server.app.inject({ url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return response.body.split('\n');
}

/** A stream that keeps everything written to it: pass as deps.logStream, read with text(). */
export function logCollector(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * A value signed the way @fastify/cookie signs (HMAC-SHA256, base64 without padding), for
 * tests that forge an s2_handoff cookie with a known SESSION_SECRET.
 */
export function signCookieValue(value: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(value).digest('base64').replace(/=/g, '');
  return `${value}.${mac}`;
}
