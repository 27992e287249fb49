import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import {
  cookieSpec,
  createRemoteKeySource,
  createSessionCookies,
  createVerifier,
  HANDOFF_PROFILE,
  type HandoffClaims,
  healthRoutes,
  installErrorHandling,
  type KeySource,
  loggerOptions,
  MetricsRegistry,
} from '@jwt-handoff/shared';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Server2Config } from './config.js';
import type { Server2Context, Server2Metrics } from './context.js';
import { resolveSessionSecret } from './handoff/session-secret.js';
import { StateCookie } from './handoff/state-cookie.js';
import { keepKeysWarm } from './keys-warm-up.js';
import { accountRoutes } from './routes/account.js';
import { handoffRoutes } from './routes/handoff.js';
import { openServer2Database } from './stores/database.js';
import { createSqliteReplayStore } from './stores/replay-store.js';
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
  const keySource =
    deps.keySource ??
    createRemoteKeySource({
      url: new URL(config.jwksUrl),
      timeoutMs: config.jwksTimeoutMs,
      cooldownMs: config.jwksCooldownMs,
      cacheMaxAgeMs: config.jwksCacheMaxAgeMs,
      maxResponseBytes: config.jwksMaxResponseBytes,
    });

  const logger = loggerOptions(config.logLevel) as Record<string, unknown>;
  const app = Fastify({
    logger: deps.logStream ? { ...logger, stream: deps.logStream } : logger,
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  installErrorHandling(app, 'server2');
  await app.register(fastifyCookie, { secret: resolveSessionSecret(config.sessionSecret, config.dataDir) });
  await app.register(fastifyFormbody);

  const registry = new MetricsRegistry();
  const metrics: Server2Metrics = {
    registry,
    handoff: registry.counter('server2_handoffs_total', 'Handoffs by outcome.'),
    tokenRejected: registry.counter('server2_token_rejections_total', 'Refused tokens, by kind and reason.'),
  };
  registry.gauge('server2_sessions', 'Sessions currently stored.', () => sessionStore.count());
  registry.gauge('server2_used_jtis', 'Rows in the replay table.', () => replayStore.count());
  registry.gauge('server2_jwks_ready', '1 once server1 keys are held.', () => (keySource.isReady() ? 1 : 0));

  const ctx: Server2Context = {
    config,
    sessions: createSessionCookies<Session, HandoffClaims>({
      store: sessionStore,
      cookie: cookieSpec(config.publicUrl, 's2_session'),
      maxAgeSec: Math.floor(config.sessionAbsoluteTimeoutMs / 1000),
      now,
    }),
    txns,
    stateCookie: new StateCookie(config.publicUrl, now),
    verifyHandoffToken: createVerifier<HandoffClaims>({
      profile: HANDOFF_PROFILE,
      issuer: config.issuerUrl,
      audience: config.clientId,
      algorithms: config.allowedAlgorithms,
      keySource,
      replayStore,
      clockToleranceSec: config.clockToleranceSec,
      maxLifetimeSec: config.handoffMaxLifetimeSec,
      now,
    }),
    metrics,
    now,
  };
  await app.register(healthRoutes, { isReady: () => keySource.isReady(), metrics: registry });
  await app.register(handoffRoutes, ctx);
  await app.register(accountRoutes, ctx);

  const stopWarmUp = keepKeysWarm(keySource, app.log);
  const purgeTimer = setInterval(() => {
    const at = now();
    Promise.all([sessionStore.purgeExpired(at), replayStore.purgeExpired(at), txns.purgeExpired(at)]).catch(
      (err) => app.log.error({ err }, 'purge failed'),
    );
  }, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  app.addHook('onClose', async () => {
    stopWarmUp();
    clearInterval(purgeTimer);
    db.close();
  });
  await app.ready();
  return app;
}
