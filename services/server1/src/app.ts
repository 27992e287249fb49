import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import {
  cookieSpec,
  healthRoutes,
  installErrorHandling,
  loggerOptions,
  MetricsRegistry,
} from '@jwt-handoff/shared';
import Fastify, { type FastifyInstance } from 'fastify';
import { createMemoryLoginThrottle } from './auth/login-throttle.js';
import { createScryptHasher, type PasswordHasher } from './auth/password-hasher.js';
import type { Server1Config } from './config.js';
import type { Server1Context, Server1Metrics } from './context.js';
import { KeyRing } from './keys/key-ring.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { handoffRoutes } from './routes/handoff.js';
import { jwksRoutes } from './routes/jwks.js';
import { loginRoutes } from './routes/login.js';
import { createSessionManager } from './session/session-manager.js';
import { openServer1Database } from './stores/database.js';
import { createSqliteKeyStore } from './stores/key-store.js';
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
  const keyRing = await KeyRing.open(createSqliteKeyStore(db), config.signingAlgorithm, now());
  const passwordHasher = deps.passwordHasher ?? createScryptHasher();
  if (config.seedDemoUsers) await seedDemoUsers(users, passwordHasher, config.demoPassword as string, now());

  const logger = loggerOptions(config.logLevel) as Record<string, unknown>;
  const app = Fastify({
    logger: deps.logStream ? { ...logger, stream: deps.logStream } : logger,
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  installErrorHandling(app, 'server1');
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  const registry = new MetricsRegistry();
  const metrics: Server1Metrics = {
    registry,
    login: registry.counter('server1_logins_total', 'Sign-in attempts by outcome.'),
    handoffIssued: registry.counter(
      'server1_handoff_tokens_issued_total',
      'Handoff tokens minted, by client.',
    ),
  };
  registry.gauge('server1_sessions', 'Sessions currently stored.', () => sessionStore.count());

  const ctx: Server1Context = {
    config,
    users,
    sessions: createSessionManager({
      sessions: sessionStore,
      users,
      cookie: cookieSpec(config.publicUrl, 's1_session'),
      absoluteTimeoutMs: config.sessionAbsoluteTimeoutMs,
      now,
    }),
    passwordHasher,
    loginThrottle: createMemoryLoginThrottle({
      maxFailuresPerAccount: config.loginMaxFailuresPerAccount,
      maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
      windowMs: config.loginFailureWindowMs,
    }),
    keyRing,
    metrics,
    now,
  };
  await app.register(healthRoutes, { isReady: () => true, metrics: registry });
  await app.register(loginRoutes, ctx);
  await app.register(dashboardRoutes, ctx);
  await app.register(handoffRoutes, ctx);
  await app.register(jwksRoutes, ctx);

  const purgeTimer = setInterval(() => {
    sessionStore.purgeExpired(now()).catch((err) => app.log.error({ err }, 'session purge failed'));
  }, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer);
    db.close();
  });
  await app.ready();
  return app;
}
