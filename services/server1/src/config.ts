import {
  baseUrlProblem,
  EnvReader,
  HANDOFF_TOKEN_TTL_DEFAULT_SEC,
  HANDOFF_TOKEN_TTL_MAX_SEC,
  type ListenTls,
  LOGOUT_PROFILE,
  metricsTokenProblem,
  ProductionMode,
  readListenTls,
  readTrustedCa,
  readTrustProxy,
  SERVICE_PROFILE,
  type SigningAlgorithm,
  SUPPORTED_ALGORITHMS,
  type TrustProxy,
  VERIFIER_DEFAULTS,
} from '@jwt-handoff/shared';
import { type RotationTimingInput, rotationTiming } from './keys/key-timeline.js';

/** A relying service registered with server1 (one entry of `CLIENTS`). */
export interface ClientRegistration {
  /** The client id: the `aud` of the tokens minted for it. */
  readonly id: string;
  /** Shown on the dashboard. Default: the id. */
  readonly name: string;
  /** Callback URLs a handoff may post to, compared exactly. */
  readonly redirectUris: readonly string[];
  /** Where back-channel logout tokens are posted (docs/design.md section 2). */
  readonly backchannelLogoutUri: string | undefined;
  /** Base URL of the client's API, for service-to-service calls. */
  readonly apiUrl: string | undefined;
  /** The link on the dashboard that starts a handoff on the client's side. */
  readonly startUrl: string;
}

/** server1's settings, read once from the environment and frozen. */
export interface Server1Config {
  readonly port: number;
  readonly host: string;
  /** The URL browsers use; also the `iss` of every token. */
  readonly publicUrl: string;
  /** Holds the SQLite database (users, sessions, keys). */
  readonly dataDir: string;
  readonly clients: readonly ClientRegistration[];
  readonly seedDemoUsers: boolean;
  readonly demoPassword: string | undefined;
  /** Lifetime of a handoff token in seconds; at most 300. */
  readonly handoffTokenTtlSec: number;
  /** The algorithm new signing keys are made for. */
  readonly signingAlgorithm: SigningAlgorithm;
  /** How long verifiers may cache the JWKS, in seconds (its Cache-Control max-age). */
  readonly jwksMaxAgeSec: number;
  /** Rotate keys automatically once the current one has signed this long (ms); unset: by command only. */
  readonly keyRotationIntervalMs: number | undefined;
  /** Extra safety added to both waits of the rotation timeline (ms). */
  readonly keyTimingMarginMs: number;
  /** Signing keys from the environment (PEM or JWK), instead of generated ones in DATA_DIR. */
  readonly signingKeys: { current: string; next?: string; previous?: string } | undefined;
  /** Lifetimes of service and logout tokens, in seconds (at most 60 and 120). */
  readonly serviceTokenTtlSec: number;
  readonly logoutTokenTtlSec: number;
  /** A session ends after this long without a request, in milliseconds. */
  readonly sessionIdleTimeoutMs: number;
  /** A session ends this long after sign-in whatever happens, in milliseconds. */
  readonly sessionAbsoluteTimeoutMs: number;
  /** Failed sign-ins allowed per account (from anywhere), and per client address, within the window. */
  readonly loginMaxFailuresPerAccount: number;
  readonly loginMaxFailuresPerAddress: number;
  readonly loginFailureWindowMs: number;
  /** Failures of one account from one address before each further attempt must wait. */
  readonly loginDelayAfterFailures: number;
  /** That first wait (ms); it doubles with each further failure, up to the window. */
  readonly loginDelayBaseMs: number;
  /** Password hashes computed at once, and how many more may wait for a slot (beyond: 429 `login_busy`). */
  readonly loginMaxConcurrentHashes: number;
  readonly loginMaxQueuedHashes: number;
  /** This service's id as a caller: the `sub` of its service tokens. */
  readonly serviceId: string;
  /** A service-to-service call (the dashboard's activity panel) gives up after this long (ms). */
  readonly serviceCallTimeoutMs: number;
  /** Back-channel logout: first retry delay, largest delay, give-up age and per-POST timeout (ms). */
  readonly logoutRetryBaseMs: number;
  readonly logoutRetryMaxMs: number;
  readonly logoutDeliveryMaxAgeMs: number;
  readonly logoutRequestTimeoutMs: number;
  /** Whose X-Forwarded-For to believe: no one, the nearest n proxies, or the listed ones. */
  readonly trustProxy: TrustProxy;
  /** Listen over TLS with this certificate and key (TLS_CERT_FILE, TLS_KEY_FILE); unset: plain http. */
  readonly tls: ListenTls | undefined;
  /** PEM certificates outbound https calls trust besides Node's default roots (TLS_CA_FILE). */
  readonly tlsCa: readonly string[] | undefined;
  readonly logLevel: string;
  /** Opens GET /metrics to `Authorization: Bearer <token>` (METRICS_TOKEN); unset: loopback only. */
  readonly metricsToken: string | undefined;
}

const DEFAULT_PUBLIC_URL = 'http://localhost:4001';
const DEFAULT_CLIENT = {
  id: 'server2',
  name: 'server2',
  redirect_uris: ['http://localhost:4002/handoff/callback'],
  backchannel_logout_uri: 'http://localhost:4002/backchannel-logout',
  api_url: 'http://localhost:4002',
};
const CLIENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Reads server1's configuration from `env` (docs/design.md section 5). Every variable has a default
 * that works for the local demo; every bad value is reported at once, by name.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Server1Config {
  const read = new EnvReader(env);
  const publicUrl = read.baseUrl('PUBLIC_URL', DEFAULT_PUBLIC_URL);
  const seedDemoUsers = read.boolean('SEED_DEMO_USERS', false);
  const demoPassword = read.raw('DEMO_PASSWORD');
  if (seedDemoUsers && (demoPassword === undefined || demoPassword.length < 8)) {
    read.problem('DEMO_PASSWORD', 'must be set to at least 8 characters when SEED_DEMO_USERS is true');
  }
  const config: Server1Config = {
    port: read.integer('PORT', 4001, { min: 0, max: 65535 }),
    host: read.string('HOST', '127.0.0.1'),
    publicUrl,
    dataDir: read.string('DATA_DIR', 'data/server1'),
    clients: read.json('CLIENTS', [parseClient(DEFAULT_CLIENT, 0)], parseClients),
    seedDemoUsers,
    demoPassword,
    handoffTokenTtlSec: read.integer('HANDOFF_TOKEN_TTL', HANDOFF_TOKEN_TTL_DEFAULT_SEC, {
      min: 5,
      max: HANDOFF_TOKEN_TTL_MAX_SEC,
    }),
    signingAlgorithm: read.oneOf('SIGNING_ALG', SUPPORTED_ALGORITHMS, 'EdDSA'),
    jwksMaxAgeSec: read.integer('JWKS_MAX_AGE_SEC', 300, { min: 0, max: 86_400 }),
    keyRotationIntervalMs: read.duration('KEY_ROTATION_INTERVAL'),
    keyTimingMarginMs: read.integer('KEY_TIMING_MARGIN_MS', 60_000, { min: 0 }),
    signingKeys: signingKeysFrom(read),
    serviceTokenTtlSec: read.integer('SERVICE_TOKEN_TTL', SERVICE_PROFILE.maxLifetimeSec, {
      min: 5,
      max: SERVICE_PROFILE.maxLifetimeSec,
    }),
    logoutTokenTtlSec: read.integer('LOGOUT_TOKEN_TTL', LOGOUT_PROFILE.maxLifetimeSec, {
      min: 5,
      max: LOGOUT_PROFILE.maxLifetimeSec,
    }),
    sessionIdleTimeoutMs: read.integer('SESSION_IDLE_TIMEOUT_MS', 30 * 60_000, { min: 1000 }),
    sessionAbsoluteTimeoutMs: read.integer('SESSION_ABSOLUTE_TIMEOUT_MS', 12 * 3_600_000, { min: 1000 }),
    loginMaxFailuresPerAccount: read.integer('LOGIN_MAX_FAILURES_PER_ACCOUNT', 100, { min: 1 }),
    loginMaxFailuresPerAddress: read.integer('LOGIN_MAX_FAILURES_PER_ADDRESS', 20, { min: 1 }),
    loginFailureWindowMs: read.integer('LOGIN_FAILURE_WINDOW_MS', 15 * 60_000, { min: 1000 }),
    loginDelayAfterFailures: read.integer('LOGIN_DELAY_AFTER_FAILURES', 5, { min: 1 }),
    loginDelayBaseMs: read.integer('LOGIN_DELAY_BASE_MS', 1000, { min: 1 }),
    loginMaxConcurrentHashes: read.integer('LOGIN_MAX_CONCURRENT_HASHES', 2, { min: 1, max: 256 }),
    loginMaxQueuedHashes: read.integer('LOGIN_MAX_QUEUED_HASHES', 8, { min: 0, max: 10_000 }),
    serviceId: read.string('SERVICE_ID', 'server1'),
    serviceCallTimeoutMs: read.integer('SERVICE_CALL_TIMEOUT_MS', 1_500, { min: 100, max: 30_000 }),
    logoutRetryBaseMs: read.integer('LOGOUT_RETRY_BASE_MS', 500, { min: 10 }),
    logoutRetryMaxMs: read.integer('LOGOUT_RETRY_MAX_MS', 5 * 60_000, { min: 10 }),
    logoutDeliveryMaxAgeMs: read.integer('LOGOUT_DELIVERY_MAX_AGE_MS', 24 * 3_600_000, { min: 1000 }),
    logoutRequestTimeoutMs: read.integer('LOGOUT_REQUEST_TIMEOUT_MS', 3_000, { min: 100, max: 60_000 }),
    trustProxy: readTrustProxy(read),
    tls: readListenTls(read, publicUrl),
    tlsCa: readTrustedCa(read),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    metricsToken: metricsTokenFrom(read),
  };
  // SERVICE_ID is the `sub` of every service token, an id of the same kind as a client id (and
  // server2's CLIENT_ID is held to this pattern). Unchecked, any string (spaces, control
  // characters, kilobytes) started the service and went into every token: docs/design.md section 5
  // wants a wrong value to stop the service, naming the variable.
  if (!CLIENT_ID_PATTERN.test(config.serviceId)) {
    read.problem('SERVICE_ID', 'must be 1-64 characters of letters, digits, ".", "_" or "-"');
  }
  if (config.signingKeys && config.keyRotationIntervalMs !== undefined) {
    read.problem(
      'KEY_ROTATION_INTERVAL',
      'cannot be used with SIGNING_KEY: keys from the environment are rotated by redeploying',
    );
  }
  const lead = rotationTiming(timingInputOf(config)).publishLeadMs;
  if (config.keyRotationIntervalMs !== undefined && config.keyRotationIntervalMs <= lead) {
    read.problem(
      'KEY_ROTATION_INTERVAL',
      `must be longer than the publish lead (${Math.ceil(lead / 1000)} s)`,
    );
  }
  if (config.loginDelayBaseMs > config.loginFailureWindowMs) {
    read.problem('LOGIN_DELAY_BASE_MS', 'must not be longer than LOGIN_FAILURE_WINDOW_MS');
  }
  if (config.logoutRetryMaxMs < config.logoutRetryBaseMs) {
    read.problem('LOGOUT_RETRY_MAX_MS', 'must not be smaller than LOGOUT_RETRY_BASE_MS');
  }
  checkProduction(read, config);
  read.finish();
  return Object.freeze(config);
}

/**
 * Production mode (NODE_ENV=production; docs/deployment.md): refuses what only the local demo
 * may have. An http public URL lets anyone on the path read session cookies and handoff tokens;
 * the default CLIENTS sends handoff tokens to http://localhost:4002; demo users have a password
 * printed in the README and the compose file.
 */
function checkProduction(read: EnvReader, config: Server1Config): void {
  const production = new ProductionMode(read);
  if (!production.enabled) return;
  production.requireHttps('PUBLIC_URL', config.publicUrl);
  if (read.raw('CLIENTS') === undefined) {
    production.refuse(
      'CLIENTS',
      "must be set in production: the default registers the local demo's server2 at http://localhost:4002",
    );
  } else if (!read.hasProblem('CLIENTS')) {
    // A redirect URI is where the browser posts a handoff token: a client's public URL.
    for (const client of config.clients) {
      for (const uri of client.redirectUris) {
        const problem = production.urlProblem(uri);
        if (problem) read.problem('CLIENTS', `redirect_uris of ${client.id}: ${problem}`);
      }
    }
  }
  if (config.seedDemoUsers) {
    production.refuse(
      'SEED_DEMO_USERS',
      'must not be true in production: alice and bob have a shared, known password; create real accounts instead',
    );
  }
}

/** What the rotation timeline of this configuration is derived from (key-timeline.ts). */
export function timingInputOf(config: Server1Config): RotationTimingInput {
  return {
    jwksMaxAgeSec: config.jwksMaxAgeSec,
    maxTokenLifetimeSec: Math.max(
      config.handoffTokenTtlSec,
      config.serviceTokenTtlSec,
      config.logoutTokenTtlSec,
    ),
    clockToleranceSec: VERIFIER_DEFAULTS.clockToleranceSec,
    marginMs: config.keyTimingMarginMs,
  };
}

/** SIGNING_KEY (signs), SIGNING_KEY_NEXT and SIGNING_KEY_PREVIOUS (published only). */
function signingKeysFrom(read: EnvReader): Server1Config['signingKeys'] {
  const current = read.raw('SIGNING_KEY');
  const next = read.raw('SIGNING_KEY_NEXT');
  const previous = read.raw('SIGNING_KEY_PREVIOUS');
  for (const [name, value] of [
    ['SIGNING_KEY', current],
    ['SIGNING_KEY_NEXT', next],
    ['SIGNING_KEY_PREVIOUS', previous],
  ] as const) {
    if (value !== undefined && !value.startsWith('-----BEGIN PRIVATE KEY-----') && !value.startsWith('{')) {
      read.problem(name, 'must be a PKCS#8 PEM private key or a private JWK (JSON)');
    }
  }
  if (current === undefined) {
    if (next !== undefined || previous !== undefined) {
      read.problem('SIGNING_KEY', 'must be set when SIGNING_KEY_NEXT or SIGNING_KEY_PREVIOUS is');
    }
    return undefined;
  }
  return { current, ...(next ? { next } : {}), ...(previous ? { previous } : {}) };
}

/** Checks the `CLIENTS` JSON: an array of { id, redirect_uris, backchannel_logout_uri?, api_url? }. */
function parseClients(value: unknown): ClientRegistration[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new Error('must be a non-empty JSON array of clients');
  const clients = value.map(parseClient);
  const ids = new Set<string>();
  for (const client of clients) {
    if (ids.has(client.id)) throw new Error(`lists client "${client.id}" twice`);
    ids.add(client.id);
  }
  return clients;
}

function parseClient(value: unknown, index: number): ClientRegistration {
  const where = `entry ${index}`;
  if (typeof value !== 'object' || value === null) throw new Error(`${where} must be an object`);
  const entry = value as Record<string, unknown>;
  if (typeof entry.id !== 'string' || !CLIENT_ID_PATTERN.test(entry.id)) {
    throw new Error(`${where}: id must be 1-64 characters of letters, digits, ".", "_" or "-"`);
  }
  const redirectUris = entry.redirect_uris;
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
    throw new Error(`${where} (${entry.id}): redirect_uris must be a non-empty array`);
  }
  for (const uri of redirectUris) checkUrl(uri, `${where} (${entry.id}): redirect_uris`);
  const backchannel = optionalUrl(
    entry.backchannel_logout_uri,
    `${where} (${entry.id}): backchannel_logout_uri`,
  );
  const apiUrl = optionalUrl(entry.api_url, `${where} (${entry.id}): api_url`);
  const firstRedirect = new URL(redirectUris[0] as string);
  const startUrl =
    optionalUrl(entry.start_url, `${where} (${entry.id}): start_url`) ??
    `${firstRedirect.origin}/handoff/start?return_to=%2F`;
  return Object.freeze({
    id: entry.id,
    name: typeof entry.name === 'string' && entry.name.length > 0 ? entry.name : entry.id,
    redirectUris: Object.freeze([...(redirectUris as string[])]),
    backchannelLogoutUri: backchannel,
    apiUrl: apiUrl?.replace(/\/+$/, ''),
    startUrl,
  });
}

function optionalUrl(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  checkUrl(value, where);
  return value as string;
}

function checkUrl(value: unknown, where: string): void {
  if (typeof value !== 'string') throw new Error(`${where} must be a string URL`);
  // Callback URLs may carry a path but, like the base URLs, no credentials or fragment.
  const problem = baseUrlProblem(value.split('?')[0] ?? value);
  if (problem) throw new Error(`${where} ${problem}`);
  if (new URL(value).hash) throw new Error(`${where} must not have a fragment`);
}

/** METRICS_TOKEN: a bearer token that opens GET /metrics beyond loopback; unset by default. */
function metricsTokenFrom(read: EnvReader): string | undefined {
  const token = read.raw('METRICS_TOKEN');
  const problem = token === undefined ? undefined : metricsTokenProblem(token);
  if (problem) read.problem('METRICS_TOKEN', problem);
  return token;
}
