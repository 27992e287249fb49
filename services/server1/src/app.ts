import {
  cookieSpec,
  createServiceApp,
  createServiceClient,
  createServiceTokenCache,
  healthRoutes,
  MetricsRegistry,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import { createActivityPanel } from './activity/activity-panel.js';
import { createHashLimiter } from './auth/hash-limiter.js';
import { createMemoryLoginThrottle } from './auth/login-throttle.js';
import { createScryptHasher, type PasswordHasher } from './auth/password-hasher.js';
import { type Server1Config, timingInputOf } from './config.js';
import { keysFromEnvironment } from './keys/environment-keys.js';
import { KeyRing } from './keys/key-ring.js';
import { rotationTiming } from './keys/key-timeline.js';
import { startKeyMaintenance } from './keys/rotation-schedule.js';
import { createLogoutDispatcher } from './logout/backchannel-dispatcher.js';
import { createSignOut } from './logout/sign-out.js';
import { createServer1Metrics } from './metrics.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { handoffRoutes } from './routes/handoff.js';
import { jwksRoutes } from './routes/jwks.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { createSessionManager } from './session/session-manager.js';
import { openServer1Database } from './stores/database.js';
import { createSqliteKeyStore } from './stores/key-store.js';
import { createSqliteLogoutOutbox } from './stores/logout-outbox.js';
import { seedDemoUsers } from './stores/seed-demo-users.js';
import { createSqliteSessionStore } from './stores/session-store.js';
import { createSqliteUserStore } from './stores/user-store.js';

/** What buildApp can be given instead of its defaults: the seams tests use. */
export interface Server1Deps {
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Where logs go (a pino destination). Default stdout. */
  logStream?: NodeJS.WritableStream;
  /** Default scrypt with the documented parameters; tests may pass cheaper ones. */
  passwordHasher?: PasswordHasher;
}

// How often expired sessions are deleted.
const PURGE_INTERVAL_MS = 60_000;
// Forms and queries here are small; anything bigger is refused before it is parsed.
const BODY_LIMIT_BYTES = 16 * 1024;

/** Builds server1: a ready, not yet listening fastify instance. Only main.ts listens. */
export async function buildApp(config: Server1Config, deps: Server1Deps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const db = openServer1Database(config.dataDir);
  const users = createSqliteUserStore(db);
  const sessionStore = createSqliteSessionStore(db, {
    idleMs: config.sessionIdleTimeoutMs,
    absoluteMs: config.sessionAbsoluteTimeoutMs,
  });
  const keyStore = createSqliteKeyStore(db);
  const keyRing = config.signingKeys
    ? await KeyRing.fromKeys(await keysFromEnvironment(config.signingKeys, config.signingAlgorithm))
    : await KeyRing.fromStore(keyStore, config.signingAlgorithm, now());
  const passwordHasher = deps.passwordHasher ?? createScryptHasher();
  if (config.seedDemoUsers) await seedDemoUsers(users, passwordHasher, config.demoPassword as string, now());

  const app = await createServiceApp({
    serviceName: 'server1',
    publicUrl: config.publicUrl,
    logLevel: config.logLevel,
    logStream: deps.logStream,
    trustProxy: config.trustProxy,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    tls: config.tls,
  });

  const registry = new MetricsRegistry();
  const metrics = createServer1Metrics(registry);
  registry.gauge('server1_sessions', 'Sessions currently stored.', () => sessionStore.count());
  const outbox = createSqliteLogoutOutbox(db);
  registry.gauge('server1_logout_outbox_depth', 'Back-channel logouts waiting for delivery.', () =>
    outbox.depth(),
  );

  const signingKey = () => keyRing.signingKey(now());
  const dispatcher = createLogoutDispatcher({
    outbox,
    clients: config.clients,
    issuer: config.publicUrl,
    signingKey,
    retry: { baseDelayMs: config.logoutRetryBaseMs, maxDelayMs: config.logoutRetryMaxMs },
    tokenTtlSec: config.logoutTokenTtlSec,
    requestTimeoutMs: config.logoutRequestTimeoutMs,
    ca: config.tlsCa,
    now,
    log: app.log.child({ component: 'logout-dispatcher' }),
    onOutcome: (outcome) => metrics.logoutDelivery({ outcome }),
  });
  const serviceClient = createServiceClient({
    tokens: createServiceTokenCache({
      issuer: config.publicUrl,
      serviceId: config.serviceId,
      signingKey,
      now,
    }),
    connectTimeoutMs: config.serviceCallTimeoutMs,
    responseTimeoutMs: config.serviceCallTimeoutMs,
    ca: config.tlsCa,
  });

  const sessions = createSessionManager({
    sessions: sessionStore,
    users,
    cookie: cookieSpec(config.publicUrl, 's1_session'),
    now,
  });
  const loginThrottle = createMemoryLoginThrottle({
    freeFailuresPerPair: config.loginDelayAfterFailures,
    delayBaseMs: config.loginDelayBaseMs,
    maxFailuresPerAccount: config.loginMaxFailuresPerAccount,
    maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
    windowMs: config.loginFailureWindowMs,
  });
  const hashLimiter = createHashLimiter({
    maxConcurrent: config.loginMaxConcurrentHashes,
    maxQueued: config.loginMaxQueuedHashes,
  });
  const signOut = createSignOut({
    sessions: sessionStore,
    users,
    outbox,
    dispatcher,
    clients: config.clients,
    deliveryMaxAgeMs: config.logoutDeliveryMaxAgeMs,
    now,
  });
  const activityPanel = createActivityPanel(serviceClient, config.clients, config.serviceCallTimeoutMs);

  await app.register(healthRoutes, {
    isReady: () => true,
    metrics: registry,
    metricsToken: config.metricsToken,
  });
  await app.register(loginRoutes, {
    config,
    users,
    sessions,
    passwordHasher,
    loginThrottle,
    hashLimiter,
    metrics,
    now,
  });
  await app.register(logoutRoutes, { config, sessions, signOut });
  await app.register(dashboardRoutes, { config, sessions, activityPanel });
  await app.register(handoffRoutes, { config, sessions, keyRing, metrics, now });
  await app.register(jwksRoutes, { config, keyRing, metrics, now });

  const stopKeyMaintenance = keyRing.rotatable
    ? startKeyMaintenance({
        store: keyStore,
        keyRing,
        algorithm: config.signingAlgorithm,
        timing: rotationTiming(timingInputOf(config)),
        rotationIntervalMs: config.keyRotationIntervalMs,
        now,
        log: app.log.child({ component: 'keys' }),
      })
    : () => {};
  const purge = () => {
    sessionStore.purgeExpired(now()).catch((err) => app.log.error({ err }, 'session purge failed'));
  };
  // Once at start too, so that a restart after a long stop begins without stale rows.
  purge();
  const purgeTimer = setInterval(purge, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer);
    stopKeyMaintenance();
    await Promise.all([dispatcher.stop(), serviceClient.close()]);
    db.close();
  });
  await app.ready();
  return app;
}
