import {
  cookieSpec,
  createJwksClient,
  createServiceApp,
  createSessionCookies,
  createVerifier,
  HANDOFF_PROFILE,
  type HandoffClaims,
  healthRoutes,
  type KeySource,
  LOGOUT_PROFILE,
  type LogoutClaims,
  MetricsRegistry,
  SERVICE_PROFILE,
  type ServiceClaims,
  type TokenReason,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server2Config } from './config.js';
import type { Server2Context, Server2Metrics } from './context.js';
import { resolveSessionSecret } from './handoff/session-secret.js';
import { StateCookie } from './handoff/state-cookie.js';
import { accountRoutes } from './routes/account.js';
import { apiRoutes } from './routes/api.js';
import { backchannelLogoutRoutes } from './routes/backchannel-logout.js';
import { createBearerAuth } from './routes/bearer-auth.js';
import { handoffRoutes } from './routes/handoff.js';
import { createSqliteActivityStore } from './stores/activity-store.js';
import { openServer2Database } from './stores/database.js';
import { createSqliteReplayStore } from './stores/replay-store.js';
import { createSqliteRevocationStore } from './stores/revocation-store.js';
import { createSqliteSessionStore, type Session } from './stores/session-store.js';
import { createSqliteTxnStore } from './stores/txn-store.js';

/** What buildApp can be given instead of its defaults: the seams tests use. */
export interface Server2Deps {
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Where logs go (a pino destination). Default stdout. */
  logStream?: NodeJS.WritableStream;
  /** Where server1's keys come from. Default: its JWKS, fetched from `jwksUrl`. */
  keySource?: KeySource;
}

// Handoff events older than this are dropped from the activity report.
const ACTIVITY_RETENTION_MS = 30 * 24 * 3_600_000;
// How often expired sessions, used jtis and txns are deleted.
const PURGE_INTERVAL_MS = 60_000;
// A handoff post is one field of at most 8 KiB; twice that leaves room for encoding, and an
// oversized token is still reported as token_too_large rather than as an oversized body.
const BODY_LIMIT_BYTES = 16 * 1024;

/** Builds server2: a ready, not yet listening fastify instance. Only main.ts listens. */
export async function buildApp(config: Server2Config, deps: Server2Deps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const db = openServer2Database(config.dataDir);
  const sessionStore = createSqliteSessionStore(db, {
    idleMs: config.sessionIdleTimeoutMs,
    absoluteMs: config.sessionAbsoluteTimeoutMs,
  });
  const replayStore = createSqliteReplayStore(db, now);
  const txns = createSqliteTxnStore(db);
  const activity = createSqliteActivityStore(db);
  const revocations = createSqliteRevocationStore(db);
  const app = await createServiceApp({
    serviceName: 'server2',
    logLevel: config.logLevel,
    logStream: deps.logStream,
    trustProxy: config.trustProxy,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    cookieSecret: resolveSessionSecret(config.sessionSecret, config.dataDir),
  });

  const registry = new MetricsRegistry();
  // server1's keys: prefetched now, refreshed in the background before they expire, served
  // stale for a bounded time when server1 is unreachable (docs/keys.md).
  const remoteKeys = deps.keySource
    ? undefined
    : createJwksClient({
        url: new URL(config.jwksUrl),
        timeoutMs: config.jwksTimeoutMs,
        cooldownMs: config.jwksCooldownMs,
        cacheMaxAgeMs: config.jwksCacheMaxAgeMs,
        maxResponseBytes: config.jwksMaxResponseBytes,
        maxStaleMs: config.jwksMaxStaleMs,
        metrics: registry,
        metricPrefix: 'server2_jwks',
        onFetchError: (err) => app.log.warn({ err: err.message }, 'cannot fetch the issuer keys'),
      });
  const keySource: KeySource = deps.keySource ?? (remoteKeys as KeySource);
  const metrics: Server2Metrics = {
    registry,
    handoff: registry.counter('server2_handoffs_total', 'Handoffs by outcome.'),
    tokenRejected: registry.counter('server2_token_rejections_total', 'Refused tokens, by kind and reason.'),
    backchannelLogout: registry.counter(
      'server2_backchannel_logouts_total',
      'Back-channel logouts, by scope.',
    ),
  };
  registry.gauge('server2_sessions', 'Sessions currently stored.', () => sessionStore.count());
  registry.gauge('server2_used_jtis', 'Rows in the replay table.', () => replayStore.count());
  registry.gauge('server2_jwks_ready', '1 once server1 keys are held.', () => (keySource.isReady() ? 1 : 0));

  // A handoff token is revoked when its server1 session has signed out (by sid), or when the
  // user signed out everywhere in or after the second it was issued.
  const isRevoked = async (claims: { sub: string; iat: number; sid?: unknown }) => {
    if (typeof claims.sid === 'string' && (await revocations.isSidEnded(claims.sid, now()))) return true;
    const after = await revocations.tokensValidAfter(claims.sub);
    return after !== undefined && claims.iat <= after;
  };
  // Every verifier shares the issuer, audience, algorithms, keys, leeway and clock; each has
  // its own profile, so no kind of token is accepted where another is expected.
  const common = {
    issuer: config.issuerUrl,
    audience: config.clientId,
    algorithms: config.allowedAlgorithms,
    keySource,
    clockToleranceSec: config.clockToleranceSec,
    now,
  };
  const verifyServiceToken = createVerifier<ServiceClaims>({
    ...common,
    profile: SERVICE_PROFILE,
    verifiedTokenCache: config.verifiedTokenCache && { maxEntries: config.verifiedTokenCacheMaxEntries },
  });

  const ctx: Server2Context = {
    config,
    sessions: createSessionCookies<Session, HandoffClaims>({
      store: sessionStore,
      cookie: cookieSpec(config.publicUrl, 's2_session'),
      maxAgeSec: Math.floor(config.sessionAbsoluteTimeoutMs / 1000),
      now,
    }),
    sessionStore,
    txns,
    activity,
    revocations,
    stateCookie: new StateCookie(config.publicUrl, now),
    verifyHandoffToken: createVerifier<HandoffClaims>({
      ...common,
      profile: HANDOFF_PROFILE,
      replayStore,
      maxLifetimeSec: config.handoffMaxLifetimeSec,
      isRevoked: (claims) => isRevoked(claims as HandoffClaims),
    }),
    verifyLogoutToken: createVerifier<LogoutClaims>({ ...common, profile: LOGOUT_PROFILE, replayStore }),
    authorizeServiceCall: createBearerAuth(verifyServiceToken, config.clientId, (reason) =>
      metrics.tokenRejected({ kind: 'service', reason: reason as TokenReason }),
    ),
    isRevoked,
    metrics,
    now,
  };
  await app.register(healthRoutes, { isReady: () => keySource.isReady(), metrics: registry });
  await app.register(handoffRoutes, ctx);
  await app.register(accountRoutes, ctx);
  await app.register(apiRoutes, ctx);
  await app.register(backchannelLogoutRoutes, ctx);

  remoteKeys?.start();
  const purgeTimer = setInterval(() => {
    const at = now();
    Promise.all([
      sessionStore.purgeExpired(at),
      replayStore.purgeExpired(at),
      txns.purgeExpired(at),
      activity.purgeBefore(at - ACTIVITY_RETENTION_MS),
      revocations.purgeExpired(at),
    ]).catch((err) => app.log.error({ err }, 'purge failed'));
  }, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer);
    await remoteKeys?.close();
    db.close();
  });
  await app.ready();
  return app;
}
