import {
  ACTIVITY_SCOPE,
  createServiceApp,
  healthRoutes,
  type KeySource,
  MetricsRegistry,
  relyingParty,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server2Config } from './config.js';
import { accountRoutes } from './routes/account.js';
import { apiRoutes } from './routes/api.js';
import { resolveSessionSecret } from './session-secret.js';

/** What buildApp can be given instead of its defaults: the seams tests use. */
export interface Server2Deps {
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Where logs go (a pino destination). Default stdout. */
  logStream?: NodeJS.WritableStream;
  /** Where server1's keys come from. Default: its JWKS, fetched from `jwksUrl`. */
  keySource?: KeySource;
}

// A handoff post is one field of at most 8 KiB; twice that leaves room for encoding, and an
// oversized token is still reported as token_too_large rather than as an oversized body.
const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Builds server2: a relying service on the `relyingParty` plugin, which owns the handoff, the
 * back-channel logout, the verifiers and the stores; server2 adds its pages and its activity
 * API. A ready, not yet listening fastify instance: only main.ts listens.
 */
export async function buildApp(config: Server2Config, deps: Server2Deps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const app = await createServiceApp({
    serviceName: 'server2',
    publicUrl: config.publicUrl,
    logLevel: config.logLevel,
    logStream: deps.logStream,
    trustProxy: config.trustProxy,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    tls: config.tls,
  });
  const metrics = new MetricsRegistry();

  await app.register(relyingParty, {
    issuer: config.issuerUrl,
    clientId: config.clientId,
    publicUrl: config.publicUrl,
    sessionSecret: resolveSessionSecret(config.sessionSecret, config.dataDir),
    dataDir: config.dataDir,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    // The file server2 has always used, so an upgrade keeps its sessions and used jtis.
    databaseFile: 'server2.sqlite',
    serviceName: 'server2',
    // "Sign out of everything" comes back here, not to `/`, which would sign the user straight in.
    signedOutPath: '/signed-out?everywhere=1',
    algorithms: config.allowedAlgorithms,
    clockToleranceSec: config.clockToleranceSec,
    handoffMaxLifetimeSec: config.handoffMaxLifetimeSec,
    discovery: config.issuerDiscovery,
    jwksUrl: config.jwksUrl,
    jwks: {
      timeoutMs: config.jwksTimeoutMs,
      cooldownMs: config.jwksCooldownMs,
      cacheMaxAgeMs: config.jwksCacheMaxAgeMs,
      maxResponseBytes: config.jwksMaxResponseBytes,
      maxStaleMs: config.jwksMaxStaleMs,
    },
    keySource: deps.keySource,
    ...(config.tlsCa ? { tlsCa: config.tlsCa } : {}),
    sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
    sessionAbsoluteTimeoutMs: config.sessionAbsoluteTimeoutMs,
    verifiedTokenCache: config.verifiedTokenCache && { maxEntries: config.verifiedTokenCacheMaxEntries },
    metrics,
    metricPrefix: 'server2',
    now,
  });
  const { relyingParty: rp } = app;
  await app.register(healthRoutes, { isReady: rp.isReady, metrics, metricsToken: config.metricsToken });
  await app.register(accountRoutes, {
    publicUrl: config.publicUrl,
    sensitiveMaxAgeSec: config.sensitiveMaxAgeSec,
    currentSession: rp.currentSession,
    signOutToken: rp.signOutToken,
    endSession: rp.endSession,
    now,
    issuerUrl: config.issuerUrl,
  });
  await app.register(apiRoutes, {
    authenticate: app.requireServiceToken(ACTIVITY_SCOPE),
    sessions: rp.stores.sessions,
    activity: rp.stores.activity,
    now,
  });
  await app.ready();
  return app;
}
