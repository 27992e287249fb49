import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp, createScryptHasher, loadConfig, type Server1Config } from '@jwt-handoff/server1';
import {
  browse,
  type CookieJar,
  findForm,
  formPost,
  hiddenField,
  type KeysCliRun,
  listenOnLoopback,
  runKeysCommand,
  type TestClock,
  testClock,
} from '@jwt-handoff/testkit';
import { type RunningApp, runningApp, type Scope, tempDataDir, testScope } from '@jwt-handoff/testkit/vitest';
import Database from 'better-sqlite3';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { JSONWebKeySet } from 'jose';

/** The password `SEED_DEMO_USERS` gives alice and bob in these tests. */
export const DEMO_PASSWORD = 'correct horse battery staple';
export const PUBLIC_URL = 'http://localhost:4001';
/** The callback registered for the `server2` client in {@link testEnv}. */
export const SERVER2_CALLBACK = 'http://localhost:4002/handoff/callback';
/** The post-logout address registered for the `server2` client in {@link testEnv}. */
export const SERVER2_SIGNED_OUT = 'http://localhost:4002/logout/complete';

/** CLIENTS of every test app: server2 (the default shape) and a second client with a start_url. */
export const TEST_CLIENTS = [
  {
    id: 'server2',
    name: 'server2',
    redirect_uris: [SERVER2_CALLBACK],
    // Port 1 on loopback refuses at once: no test reaches a real server2 by accident.
    backchannel_logout_uri: 'http://127.0.0.1:1/backchannel-logout',
    api_url: 'http://127.0.0.1:1',
    post_logout_redirect_uris: [SERVER2_SIGNED_OUT],
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

/** A running (un-listened) server1, with its configuration, clock and data directory. */
export type Server1Harness = RunningApp<
  FastifyInstance,
  { readonly config: Server1Config; readonly clock: TestClock; readonly dataDir: string }
>;

export interface Server1Options {
  /** Environment on top of {@link testEnv}'s. */
  env?: Record<string, string>;
  /** The clock to run on (default: a new {@link testClock}); share one to go on along one timeline. */
  clock?: TestClock;
  /** An existing data directory (another instance's) to build on, left in place; default: a fresh one. */
  dataDir?: string;
  /** Where the cleanup goes (default: the running test); {@link suiteScope} for a server the tests of a block share. */
  scope?: Scope;
  /** Where the app logs (deps.logStream), e.g. a {@link logCollector}; set LOG_LEVEL in `env` too. */
  logStream?: NodeJS.WritableStream;
}

/**
 * Builds server1 with `buildApp(loadConfig(env), deps)` (never listening) on a fresh DATA_DIR;
 * closed, then its DATA_DIR removed, when the scope ends. `restart()` builds it again on the
 * same DATA_DIR and clock.
 */
export async function startServer1(options: Server1Options = {}): Promise<Server1Harness> {
  const scope = options.scope ?? testScope;
  const dataDir = options.dataDir ?? tempDataDir('jwt-handoff-server1', scope);
  const clock = options.clock ?? testClock();
  const config = loadConfig(testEnv(dataDir, options.env));
  return runningApp(
    () =>
      buildApp(config, {
        now: clock.now,
        passwordHasher,
        ...(options.logStream ? { logStream: options.logStream } : {}),
      }),
    { config, clock, dataDir },
    scope,
  );
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

/** server1's two sign-out forms, by where they post. */
export type SignOutPath = '/logout' | '/logout/everywhere';

/**
 * Presses a sign-out button on the dashboard of the browser `jar`, like a user would: the form's
 * own fields (its hidden `csrf_token`) posted with this site's Origin. Returns the POST's response.
 */
export async function signOutWithForm(
  app: FastifyInstance,
  jar: CookieJar,
  path: SignOutPath = '/logout',
): Promise<LightMyRequestResponse> {
  const dashboard = await browse(app, jar, { url: '/' });
  if (dashboard.statusCode !== 200) throw new Error(`the dashboard answered ${dashboard.statusCode}`);
  const form = findForm(dashboard.body, path);
  return browse(app, jar, formPost(path, form.fields, { origin: PUBLIC_URL }));
}

/** The sign-out token the dashboard of the browser `jar` puts in its sign-out forms. */
export async function signOutTokenOf(app: FastifyInstance, jar: CookieJar): Promise<string> {
  const dashboard = await browse(app, jar, { url: '/' });
  return hiddenField(dashboard.body, 'csrf_token');
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

/** The user id the dashboard of the browser `jar` shows. */
export async function userIdOf(app: FastifyInstance, jar: CookieJar): Promise<string> {
  const dashboard = await browse(app, jar, { url: '/' });
  const match = /user id <code>([^<]+)<\/code>/.exec(dashboard.body);
  if (!match) throw new Error('the dashboard shows no user id');
  return match[1] as string;
}

/** The JWKS server1 publishes. */
export async function publishedKeys(app: FastifyInstance): Promise<JSONWebKeySet> {
  return (await app.inject({ url: '/.well-known/jwks.json' })).json<JSONWebKeySet>();
}

/** The kids of the JWKS server1 publishes, in its order. */
export async function publishedKids(app: FastifyInstance): Promise<string[]> {
  return (await publishedKeys(app)).keys.map((key) => key.kid as string);
}

/** A handoff token for `server2`, as GET /handoff/authorize mints it for the signed-in `jar`. */
export async function handoffToken(app: FastifyInstance, jar: CookieJar, state = 'state-1'): Promise<string> {
  const query = new URLSearchParams({ client_id: 'server2', redirect_uri: SERVER2_CALLBACK, state });
  const response = await browse(app, jar, { url: `/handoff/authorize?${query}` });
  if (response.statusCode !== 200) throw new Error(`/handoff/authorize answered ${response.statusCode}`);
  return hiddenField(response.body, 'token');
}

/**
 * Hands the signed-in browser `jar` off to the client `clientId` (default server2): GET
 * /handoff/authorize, which records the visit and mints a token; returns the token.
 */
export async function handOff(
  app: FastifyInstance,
  jar: CookieJar,
  client: { id: string; redirectUri: string } = { id: 'server2', redirectUri: SERVER2_CALLBACK },
): Promise<string> {
  const query = new URLSearchParams({ client_id: client.id, redirect_uri: client.redirectUri, state: 's-1' });
  const response = await browse(app, jar, { url: `/handoff/authorize?${query}` });
  if (response.statusCode !== 200) throw new Error(`/handoff/authorize answered ${response.statusCode}`);
  return hiddenField(response.body, 'token');
}

/** A stream that keeps everything written to it: pass as `logStream`, read with text(). */
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
 * The kids of the signing keys stored in server1's database in `dataDir`, read the way another
 * process would (private halves included: a dropped key must be gone from here).
 */
export function storedKids(dataDir: string): string[] {
  const db = new Database(join(dataDir, 'server1.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare<[], { kid: string }>('SELECT kid FROM signing_keys ORDER BY sign_from, created_at')
      .all()
      .map((row) => row.kid);
  } finally {
    db.close();
  }
}

/**
 * Runs `npm run keys -- <args>` in its own process against `dataDir`, with the environment
 * {@link startServer1} gives the app plus `env`. With `clock`, the command's Date.now is that
 * clock's time, so that a rotation it starts lines up with the timeline of a test app on the same
 * clock.
 */
export function runKeysCli(
  dataDir: string,
  args: readonly string[],
  options: { env?: Record<string, string>; clock?: TestClock } = {},
): Promise<KeysCliRun> {
  return runKeysCommand(testEnv(dataDir, options.env), args, { now: options.clock?.now() });
}

/** One row of the table `keys list` (and `keys rotate`) prints. */
export interface ListedKey {
  readonly kid: string;
  readonly alg: string;
  readonly state: string;
  readonly signsFrom: string;
  readonly stopsSigning: string;
  readonly leavesJwks: string;
  readonly nextTransition: string;
}

/** The rows of the key table in the keys command's output. */
export function listedKeys(stdout: string): ListedKey[] {
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => line.startsWith('kid '));
  if (header < 0) throw new Error(`the output has no key table:\n${stdout}`);
  return lines
    .slice(header + 1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [kid, alg, state, signsFrom, stopsSigning, leavesJwks, nextTransition] = line
        .trim()
        .split(/ {2,}/);
      return { kid, alg, state, signsFrom, stopsSigning, leavesJwks, nextTransition } as ListedKey;
    });
}

/** `ms` as the keys command prints times. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The value of one sample in /metrics, named as it is printed (`name` or `name{label="v"}`), or
 * undefined when the sample is not there (yet).
 */
export async function metric(app: FastifyInstance, sample: string): Promise<number | undefined> {
  const text = (await app.inject({ url: '/metrics' })).body;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** How the fake client answers one back-channel POST: a status, never (`hang`), or by hanging up. */
export type BackchannelAnswer = number | 'hang' | 'drop';

/** One back-channel logout POST the fake client received. */
export interface ReceivedLogout {
  readonly contentType: string | undefined;
  /** The posted form fields. */
  readonly fields: URLSearchParams;
  /** The `logout_token` field ('' when missing). */
  readonly logoutToken: string;
}

/** A request to the fake client's API, and the answer to send. */
export type ApiHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/**
 * A relying service standing in for server2 on 127.0.0.1: it records the back-channel logout
 * POSTs it receives at /backchannel-logout and answers its API (everything else) with a handler
 * the test sets.
 */
export interface FakeClient {
  /** The base URL, for `api_url`. */
  readonly url: string;
  /** Where back-channel logout tokens are to be posted. */
  readonly backchannelUri: string;
  /** Back-channel POSTs received so far, oldest first. */
  readonly logouts: readonly ReceivedLogout[];
  /**
   * Answers the next back-channel POSTs with `answers`, one each in order; the last one stays in
   * force. Default 200.
   */
  answerLogouts(...answers: BackchannelAnswer[]): void;
  /** Answers API requests with `handler` from now on. Default 404. */
  answerApi(handler: ApiHandler): void;
  close(): Promise<void>;
}

export async function startFakeClient(): Promise<FakeClient> {
  const logouts: ReceivedLogout[] = [];
  let answers: BackchannelAnswer[] = [200];
  let api: ApiHandler = (_request, response) => {
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  };

  const backchannel = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const fields = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    logouts.push({
      contentType: request.headers['content-type'],
      fields,
      logoutToken: fields.get('logout_token') ?? '',
    });
    const answer = (answers.length > 1 ? answers.shift() : answers[0]) as BackchannelAnswer;
    if (answer === 'hang') return;
    if (answer === 'drop') {
      request.socket.destroy();
      return;
    }
    response.writeHead(answer, { 'cache-control': 'no-store' }).end();
  };

  const server = await listenOnLoopback((request, response) => {
    const handle: ApiHandler =
      request.method === 'POST' && request.url === '/backchannel-logout' ? backchannel : api;
    Promise.resolve(handle(request, response)).catch(() => response.destroy());
  });
  return {
    url: server.url,
    backchannelUri: `${server.url}/backchannel-logout`,
    logouts,
    answerLogouts: (...next) => {
      answers = next.length > 0 ? next : [200];
    },
    answerApi: (handler) => {
      api = handler;
    },
    // A hanging answer leaves its socket open: close() hangs up on it.
    close: server.close,
  };
}

/** The id and callback of the `billing` client that {@link clientsWith} registers on a second fake. */
export const BILLING = { id: 'billing', redirectUri: 'http://localhost:4003/handoff/callback' };

/**
 * CLIENTS with server2's back-channel URL and API on `fake`, and the `reports` client (which has
 * neither) as in {@link TEST_CLIENTS}; with `billing`, a third client ({@link BILLING}) whose
 * back-channel URL and API are on that fake.
 */
export function clientsWith(fake: FakeClient, billing?: FakeClient): string {
  const clients: object[] = TEST_CLIENTS.map((client) =>
    client.id === 'server2'
      ? { ...client, backchannel_logout_uri: fake.backchannelUri, api_url: fake.url }
      : client,
  );
  if (billing) {
    clients.push({
      id: BILLING.id,
      name: 'Billing',
      redirect_uris: [BILLING.redirectUri],
      backchannel_logout_uri: billing.backchannelUri,
      api_url: billing.url,
    });
  }
  return JSON.stringify(clients);
}
