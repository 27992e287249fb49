import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp, loadConfig, type Server2Config } from '@jwt-handoff/server2';
import { createLocalKeySource, type KeySource, KeySourceUnavailableError } from '@jwt-handoff/shared';
import { withOverrides } from '@jwt-handoff/testkit';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { expect, onTestFinished } from 'vitest';

export type Response = LightMyRequestResponse;

/** server1's URL as server2 is configured with it: the exact `iss` and where browsers sign in. */
export const ISSUER_URL = 'http://localhost:4001';
/** server2's own URL. */
export const PUBLIC_URL = 'http://localhost:4002';
export const CLIENT_ID = 'server2';

/** The instant every test clock starts at, in milliseconds, so nothing depends on real time. */
export const T0_MS = Date.UTC(2025, 5, 15, 12, 0, 0);

/** A clock the test moves by hand; server2 reads it through `deps.now`. */
export interface TestClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Whole seconds since the epoch, as JWT claims count. */
  nowSec(): number;
  advance(ms: number): void;
}

export function testClock(startMs = T0_MS): TestClock {
  let ms = startMs;
  return {
    now: () => ms,
    nowSec: () => Math.floor(ms / 1000),
    advance: (by) => {
      ms += by;
    },
  };
}

/** An Ed25519 signing key as server1 would hold it; kid is the RFC 7638 thumbprint. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
}

export type Claims = Record<string, unknown>;

/**
 * The claims server1 puts in a handoff token issued now (DESIGN.md section 3). `overrides`
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

/** The scope server2's activity API asks for (DESIGN.md section 2). */
export const ACTIVITY_SCOPE = 'activity:read';

/**
 * The claims of a service token server1 mints now to call server2's API (DESIGN.md sections 2
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
 * DESIGN.md section 3): the back-channel logout event, exp = iat + 120 s, and `sub: user-alice`
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

/**
 * Signs `claims` with `key` as a compact JWT. The header is `{alg: EdDSA, kid, typ: handoff+jwt}`;
 * `header` members replace those, and one set to `undefined` is left out.
 */
export async function mintToken(
  key: SigningKey,
  claims: Claims,
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader: Record<string, unknown> = {
    alg: 'EdDSA',
    kid: key.kid,
    typ: 'handoff+jwt',
    ...header,
  };
  for (const [name, value] of Object.entries(protectedHeader)) {
    if (value === undefined) delete protectedHeader[name];
  }
  return new SignJWT(claims).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
}

/** base64url of the JSON of `value`: one segment of a hand-built compact JWS. */
export function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A fresh DATA_DIR under the system temp directory, removed when the test ends. */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'server2-it-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A running (un-listened) server2 and what the test needs to drive it. */
export interface Server2Harness {
  /** The current instance; {@link Server2Harness.restart} replaces it. */
  readonly app: FastifyInstance;
  readonly config: Server2Config;
  readonly clock: TestClock;
  /** server1's signing key, whose public half server2 trusts. */
  readonly key: SigningKey;
  readonly dataDir: string;
  /** A handoff token signed by {@link Server2Harness.key}, issued at the clock's time. */
  mint(overrides?: Claims, header?: Record<string, unknown>): Promise<string>;
  /** A service token (typ service+jwt, {@link serviceClaims}) signed by the key, issued now. */
  mintService(overrides?: Claims, header?: Record<string, unknown>): Promise<string>;
  /** A logout token (typ logout+jwt, {@link logoutClaims}) signed by the key, issued now. */
  mintLogout(overrides?: Claims, header?: Record<string, unknown>): Promise<string>;
  /** Closes the app and builds a new one on the same DATA_DIR, key and clock. */
  restart(): Promise<void>;
}

export interface HarnessOptions {
  /** Environment on top of the test defaults (PUBLIC_URL, ISSUER_URL, CLIENT_ID, DATA_DIR). */
  env?: Record<string, string>;
  /** Replaces the local key source over {@link Server2Harness.key}. */
  keySource?: KeySource;
  logStream?: NodeJS.WritableStream;
}

/**
 * Builds server2 with `buildApp(loadConfig(env), deps)` on a fresh DATA_DIR, trusting a key
 * generated for the test; closed and cleaned up when the test ends.
 */
export async function startServer2(options: HarnessOptions = {}): Promise<Server2Harness> {
  const dataDir = tempDataDir();
  const key = await generateSigningKey();
  const clock = testClock();
  const config = loadConfig({
    PUBLIC_URL,
    ISSUER_URL,
    CLIENT_ID,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const build = () =>
    buildApp(config, {
      now: clock.now,
      keySource: options.keySource ?? createLocalKeySource({ keys: [key.publicJwk] }),
      ...(options.logStream ? { logStream: options.logStream } : {}),
    });
  let app = await build();
  // Registered after tempDataDir's cleanup, so it runs first: the database closes before its
  // directory goes (onTestFinished hooks run in reverse order).
  onTestFinished(() => app.close());
  return {
    get app() {
      return app;
    },
    config,
    clock,
    key,
    dataDir,
    mint: (overrides = {}, header = {}) => mintToken(key, handoffClaims(clock, overrides), header),
    mintService: (overrides = {}, header = {}) =>
      mintToken(key, serviceClaims(clock, overrides), { typ: 'service+jwt', ...header }),
    mintLogout: (overrides = {}, header = {}) =>
      mintToken(key, logoutClaims(clock, overrides), { typ: 'logout+jwt', ...header }),
    async restart() {
      await app.close();
      app = await build();
    },
  };
}

/** One `Set-Cookie` header, parsed; attribute names in lower case, flags as `true`. */
export interface SetCookie {
  readonly name: string;
  /** The value exactly as sent (still percent-encoded), as a browser stores it. */
  readonly value: string;
  readonly attributes: Readonly<Record<string, string | true>>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...parts] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    const at = part.indexOf('=');
    if (at === -1) attributes[part.trim().toLowerCase()] = true;
    else attributes[part.slice(0, at).trim().toLowerCase()] = part.slice(at + 1).trim();
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** Every cookie a response sets. */
export function setCookiesOf(response: Response): SetCookie[] {
  const header = response.headers['set-cookie'];
  const headers = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return headers.map(parseSetCookie);
}

/** The cookie called `name` that a response sets, if any. */
export function setCookieOf(response: Response, name: string): SetCookie | undefined {
  return setCookiesOf(response).find((cookie) => cookie.name === name);
}

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
}

/**
 * The cookie store of one browser, fed from inject responses: keeps each cookie under its name
 * and Path, sends it only to matching paths (RFC 6265 section 5.1.4), and forgets it on
 * `Max-Age=0` or an `Expires` in the past. Domain, Secure and SameSite are not modelled: every
 * request a test sends through a {@link Browser} is a same-site, top-level one.
 */
export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  /** Applies the response's Set-Cookie headers, for a request made to `requestPath`. */
  store(response: Response, requestPath: string): void {
    for (const cookie of setCookiesOf(response)) {
      const pathAttr = cookie.attributes.path;
      const path =
        typeof pathAttr === 'string' && pathAttr.startsWith('/') ? pathAttr : defaultPath(requestPath);
      const maxAge = cookie.attributes['max-age'];
      const expires = cookie.attributes.expires;
      const deleted =
        (typeof maxAge === 'string' && Number(maxAge) <= 0) ||
        (maxAge === undefined && typeof expires === 'string' && Date.parse(expires) <= Date.now());
      const id = `${cookie.name}\u0000${path}`;
      if (deleted) this.cookies.delete(id);
      else this.cookies.set(id, { name: cookie.name, value: cookie.value, path });
    }
  }

  /** The `Cookie` header a browser sends to `url`, or undefined when no cookie matches. */
  header(url: string): string | undefined {
    const path = new URL(url, PUBLIC_URL).pathname;
    const matching = [...this.cookies.values()]
      .filter((cookie) => pathMatches(path, cookie.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The value of cookie `name` (any path), as stored. */
  get(name: string): string | undefined {
    return [...this.cookies.values()].find((cookie) => cookie.name === name)?.value;
  }

  /** Stores a cookie as if a response had set it (for cookies planted by a test). */
  set(name: string, value: string, path = '/'): void {
    this.cookies.set(`${name}\u0000${path}`, { name, value, path });
  }
}

function defaultPath(requestPath: string): string {
  const path = new URL(requestPath, PUBLIC_URL).pathname;
  const lastSlash = path.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : path.slice(0, lastSlash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** A browser talking to server2 through `inject`: its requests carry its cookies. */
export class Browser {
  readonly cookies = new CookieJar();

  constructor(private readonly server: Server2Harness) {}

  async request(options: InjectOptions & { url: string }): Promise<Response> {
    const cookie = this.cookies.header(options.url);
    const response = await this.server.app.inject({
      ...options,
      headers: { ...(cookie ? { cookie } : {}), ...options.headers },
    });
    this.cookies.store(response, options.url);
    return response;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request({ method: 'GET', url, headers });
  }

  /** A same-origin form post, as the browser sends one from a server2 page. */
  postForm(url: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    return this.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: PUBLIC_URL, ...headers },
      payload: new URLSearchParams(fields).toString(),
    });
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
 * The whole handoff of DESIGN.md section 1 in `browser`, with server1's part played by minting
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
