import {
  cookieSpec,
  createServiceApp,
  createServiceClient,
  createServiceTokenCache,
  createVerifier,
  healthRoutes,
  type LogoutHintClaims,
  logoutHintVerifierOptions,
  MetricsRegistry,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import { createActivityPanel } from './activity/activity-panel.js';
import { createHashLimiter } from './auth/hash-limiter.js';
import { createScryptHasher, type PasswordHasher } from './auth/password-hasher.js';
import { type Server1Config, timingInputOf } from './config.js';
import { keysFromEnvironment } from './keys/environment-keys.js';
import { KeyRing } from './keys/key-ring.js';
import { rotationTiming } from './keys/key-timeline.js';
import { ownKeySource } from './keys/own-key-source.js';
import { startKeyMaintenance } from './keys/rotation-schedule.js';
import { createLogoutDispatcher } from './logout/backchannel-dispatcher.js';
import { createSignOut } from './logout/sign-out.js';
import { createServer1Metrics } from './metrics.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { discoveryRoutes } from './routes/discovery.js';
import { END_SESSION_PATH, endSessionRoutes } from './routes/end-session.js';
import { handoffRoutes } from './routes/handoff.js';
import { jwksRoutes } from './routes/jwks.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { createSessionManager } from './session/session-manager.js';
import { openStores, type Server1Stores } from './stores/open-stores.js';
import { seedDemoUsers } from './stores/seed-demo-users.js';

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
  const app = await createServiceApp({
    serviceName: 'server1',
    publicUrl: config.publicUrl,
    logLevel: config.logLevel,
    logStream: deps.logStream,
    trustProxy: config.trustProxy,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    tls: config.tls,
  });
  let stores: Server1Stores | undefined;
  try {
    stores = await openStores(config, { log: app.log.child({ component: 'database' }) });
    return await buildOn(app, stores, config, deps, now);
  } catch (err) {
    await app.close().catch(() => {});
    await stores?.close().catch(() => {});
    throw err;
  }
}

/** Registers server1's routes and background work on `app`, over `stores`. */
async function buildOn(
  app: FastifyInstance,
  stores: Server1Stores,
  config: Server1Config,
  deps: Server1Deps,
  now: () => number,
): Promise<FastifyInstance> {
  const { users, sessions: sessionStore, keys: keyStore, outbox, loginThrottle } = stores;
  const keyRing = config.signingKeys
    ? await KeyRing.fromKeys(await keysFromEnvironment(config.signingKeys, config.signingAlgorithm))
    : await KeyRing.fromStore(keyStore, config.signingAlgorithm, now());
  const passwordHasher = deps.passwordHasher ?? createScryptHasher();
  if (config.seedDemoUsers) await seedDemoUsers(users, passwordHasher, config.demoPassword as string, now());

  const registry = new MetricsRegistry();
  const metrics = createServer1Metrics(registry);
  registry.gauge('server1_sessions', 'Sessions currently stored.', () => sessionStore.count());
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
    reloadKeys: () => keyRing.reload(),
    requestTimeoutMs: config.logoutRequestTimeoutMs,
    ca: config.tlsCa,
    leaseMs: config.logoutDeliveryLeaseMs,
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
    // Not ready while the database cannot be reached: a proxy then sends requests elsewhere.
    isReady: () => stores.available(),
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
  // One verifier of logout hints per client (its aud), over server1's own published keys.
  const ownKeys = ownKeySource(keyRing, now);
  const logoutHintVerifiers = new Map(
    config.clients.map((client) => [
      client.id,
      createVerifier<LogoutHintClaims>({
        ...logoutHintVerifierOptions(),
        issuer: config.publicUrl,
        audience: client.id,
        algorithms: ['EdDSA', 'ES256'],
        keySource: ownKeys,
        now,
      }),
    ]),
  );
  await app.register(endSessionRoutes, {
    config,
    sessions,
    signOut,
    logoutHintVerifier: (clientId: string) => {
      const verifier = logoutHintVerifiers.get(clientId);
      if (!verifier) throw new Error(`no logout hint verifier for client ${clientId}`);
      return verifier;
    },
  });
  await app.register(dashboardRoutes, { config, sessions, activityPanel });
  await app.register(handoffRoutes, { config, sessions, keyRing, metrics, now });
  await app.register(jwksRoutes, { config, keyRing, metrics, now });
  await app.register(discoveryRoutes, { config, metrics, endSessionPath: END_SESSION_PATH });

  const stopKeyMaintenance = keyRing.rotatable
    ? startKeyMaintenance({
        store: keyStore,
        keyRing,
        algorithm: config.signingAlgorithm,
        timing: rotationTiming(timingInputOf(config)),
        rotationIntervalMs: config.keyRotationIntervalMs,
        now,
        log: app.log.child({ component: 'keys' }),
        onReload: () => dispatcher.kick(),
      })
    : () => {};
  const purge = () => {
    sessionStore.purgeExpired(now()).catch((err) => app.log.error({ err }, 'session purge failed'));
    stores.purgeExpired(now()).catch((err) => app.log.error({ err }, 'purge failed'));
  };
  // Once at start too, so that a restart after a long stop begins without stale rows.
  purge();
  const purgeTimer = setInterval(purge, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer);
    stopKeyMaintenance();
    await Promise.all([dispatcher.stop(), serviceClient.close()]);
    await stores.close();
  });
  await app.ready();
  return app;
}
