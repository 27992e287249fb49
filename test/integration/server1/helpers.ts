import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, createScryptHasher, loadConfig, type Server1Config } from '@jwt-handoff/server1';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

/** The password `SEED_DEMO_USERS` gives alice and bob in these tests. */
export const DEMO_PASSWORD = 'correct horse battery staple';
export const PUBLIC_URL = 'http://localhost:4001';
/** The callback registered for the `server2` client in {@link testEnv}. */
export const SERVER2_CALLBACK = 'http://localhost:4002/handoff/callback';

/** CLIENTS of every test app: server2 (the default shape) and a second client with a start_url. */
export const TEST_CLIENTS = [
  {
    id: 'server2',
    name: 'server2',
    redirect_uris: [SERVER2_CALLBACK],
    backchannel_logout_uri: 'http://localhost:4002/backchannel-logout',
    api_url: 'http://localhost:4002',
  },
  {
    id: 'reports',
    name: 'Reports',
    redirect_uris: ['https://reports.example/auth/callback'],
    start_url: 'https://reports.example/auth/start',
  },
];

// Cheap scrypt parameters: the hashing is not what these tests are about.
const passwordHasher = createScryptHasher({ cost: 2 ** 10, blockSize: 8, parallelization: 1, keyLength: 32 });

// A fixed start time (2030-01-01T00:00:00Z) keeps every timestamp in a test reproducible.
const START_MS = Date.UTC(2030, 0, 1);

/** The fake clock handed to buildApp as deps.now. */
export class TestClock {
  constructor(public nowMs: number = START_MS) {}

  readonly now = (): number => this.nowMs;

  advance(ms: number): void {
    this.nowMs += ms;
  }

  /** The clock as the seconds of a JWT's iat, exp or auth_time. */
  epochSeconds(): number {
    return Math.floor(this.nowMs / 1000);
  }
}

/** A fresh private data directory for one test file; `remove` it in afterAll. */
export function createDataDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'jwt-handoff-server1-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The environment of a test app: demo users seeded, two clients, logs silenced. */
function testEnv(dataDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PUBLIC_URL,
    DATA_DIR: dataDir,
    CLIENTS: JSON.stringify(TEST_CLIENTS),
    SEED_DEMO_USERS: 'true',
    DEMO_PASSWORD,
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

/** A server1 built for a test, with its configuration and clock. */
export interface TestServer1 {
  readonly app: FastifyInstance;
  readonly config: Server1Config;
  readonly clock: TestClock;
}

/** Builds server1 on `dataDir` (never listening); `env` overrides {@link testEnv}. */
export async function buildServer1(
  dataDir: string,
  env: Record<string, string> = {},
  clock: TestClock = new TestClock(),
): Promise<TestServer1> {
  const config = loadConfig(testEnv(dataDir, env));
  const app = await buildApp(config, { now: clock.now, passwordHasher });
  return { app, config, clock };
}

/**
 * The cookies a browser would hold for server1: updated from each response's Set-Cookie, sent
 * with each request. Expiry is honoured only as deletion (Max-Age=0 or an empty value), which is
 * how the services clear cookies.
 */
export class CookieJar {
  private readonly values = new Map<string, string>();

  /** Takes in the cookies a response sets or clears; returns the response for chaining. */
  store(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || cookie.maxAge === 0) this.values.delete(cookie.name);
      else this.values.set(cookie.name, cookie.value);
    }
    return response;
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Plants a cookie, as an attacker (or a sibling service on the same host) could. */
  set(name: string, value: string): void {
    this.values.set(name, value);
  }

  /** The jar as inject's `cookies` option. */
  all(): Record<string, string> {
    return Object.fromEntries(this.values);
  }
}

/** Sends a request carrying the jar's cookies, and keeps the cookies the response sets. */
export async function browse(
  app: FastifyInstance,
  jar: CookieJar,
  options: Omit<InjectOptions, 'cookies'>,
): Promise<LightMyRequestResponse> {
  return jar.store(await app.inject({ ...options, cookies: jar.all() }));
}

/** A urlencoded form post, as a browser submits one. */
export function formPost(
  url: string,
  fields: Record<string, string>,
  headers: InjectOptions['headers'] = {},
) {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  } satisfies InjectOptions;
}

/** Opens the login form and signs in with it, like a user would; returns the POST's response. */
export async function signIn(
  app: FastifyInstance,
  jar: CookieJar,
  options: { username?: string; password?: string; returnTo?: string } = {},
): Promise<LightMyRequestResponse> {
  const { username = 'alice', password = DEMO_PASSWORD, returnTo = '/' } = options;
  const form = await browse(app, jar, { url: '/login' });
  return browse(
    app,
    jar,
    formPost('/login', {
      csrf_token: hiddenField(form.body, 'csrf_token'),
      return_to: returnTo,
      username,
      password,
    }),
  );
}

/** The unescaped value of the hidden input `name` in a page; throws when there is none. */
export function hiddenField(page: string, name: string): string {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(page);
  if (!match) throw new Error(`the page has no hidden field ${name}`);
  return unescapeHtml(match[1] as string);
}

/** The reason code a page carries, in `data-reason="…"` or `<code data-reason>…</code>`. */
export function pageReason(page: string): string | undefined {
  const match = /data-reason="([^"]+)"/.exec(page) ?? /<code data-reason>([^<]*)<\/code>/.exec(page);
  return match?.[1];
}

/** The cookie `name` as a response sets it (value and attributes), or undefined. */
export function responseCookie(response: LightMyRequestResponse, name: string) {
  return response.cookies.find((cookie) => cookie.name === name);
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
