import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Agent } from 'undici';
import { createDiscoveredKeySource } from '../discovery/discovered-key-source.js';
import { createDiscoveryClient } from '../discovery/discovery-client.js';
import { AppError, StoreUnavailableError } from '../errors.js';
import { cookieSpec } from '../http/cookie-policy.js';
import { createErrorHandler, sendAppError } from '../http/error-handler.js';
import { MetricsRegistry } from '../http/metrics.js';
import { trustedCaConnectOptions } from '../http/outbound-ca.js';
import { createSessionCookies } from '../http/session-cookies.js';
import { signOutToken } from '../http/sign-out-token.js';
import { createJwksClient } from '../keys/jwks-client.js';
import type { KeySource } from '../keys/key-source.js';
import { type HandoffClaims, handoffVerifierOptions } from '../tokens/handoff-token.js';
import { type KeysChangedClaims, keysChangedVerifierOptions } from '../tokens/keys-changed-token.js';
import { type LogoutClaims, logoutVerifierOptions } from '../tokens/logout-token.js';
import { type ServiceClaims, serviceVerifierOptions } from '../tokens/service-token.js';
import { createVerifier } from '../tokens/verifier.js';
import { backchannelLogoutRoute } from './backchannel-logout-route.js';
import { endSessionRoutes } from './end-session-routes.js';
import { checkMaxAgeSec, isRecentSignIn } from './fresh-sign-in.js';
import { handoffRoutes } from './handoff-routes.js';
import { createKeysChangedEvent } from './keys-changed-event.js';
import { createRelyingMetrics } from './metrics.js';
import {
  type RelyingPartyOptions,
  type ResolvedRelyingPartyOptions,
  resolveRelyingPartyOptions,
} from './options.js';
import { createRedisRelyingStores } from './redis/redis-relying-stores.js';
import { createRevocation, type Revocation } from './revocation.js';
import { createServiceTokenAuth } from './service-token-auth.js';
import { createSqliteRelyingStores } from './sqlite/sqlite-relying-stores.js';
import { StateCookie } from './state-cookie.js';
import type { RelyingSession, RelyingStores, VerifiedHandoff } from './stores.js';

/** What `app.relyingParty` gives the app's own routes. */
export interface RelyingParty {
  /** The options, checked and completed with their defaults. */
  readonly options: ResolvedRelyingPartyOptions;
  readonly stores: RelyingStores;
  /** The registry the plugin's metrics are declared on (the app's, when it passed one). */
  readonly metrics: MetricsRegistry;
  /** The issuer's keys. */
  readonly keys: KeySource;
  readonly revocation: Revocation;
  /** Whether the service can verify tokens now: it holds the issuer's keys and its stores answer. */
  isReady(): boolean;
  /** The browser's session, if any (one store lookup per request, however many ask). */
  currentSession(request: FastifyRequest): Promise<RelyingSession | undefined>;
  /** Ends the browser's session, if any, and clears its cookie. */
  endSession(request: FastifyRequest, reply: FastifyReply): Promise<RelyingSession | undefined>;
  /**
   * The sign-out form's CSRF token for the session cookie this request carries (undefined without
   * one): put it in the app's sign-out form, and check it with `requireSignOutForm`.
   */
  signOutToken(request: FastifyRequest): string | undefined;
  /**
   * The path that starts a handoff returning to `returnTo` (a path of this service); with
   * `maxAgeSec`, one that asks the issuer for a sign-in at most that many seconds old.
   */
  startPath(returnTo: string, options?: { maxAgeSec?: number }): string;
}

/** Options of `app.requireSession()`. */
export interface RequireSessionOptions {
  /**
   * What a request without a session gets: `true` sends it to sign in (303 to the handoff start,
   * returning here), `false` answers 401 `session_missing`. Default: a redirect for a GET of a
   * browser route (route config `html`, or `Accept: text/html`), 401 otherwise.
   */
  redirect?: boolean;
  /**
   * Demands a recent sign-in: a session whose sign-in (its token's auth_time) is more than this
   * many seconds old is sent through a new handoff with `max_age`, so the issuer asks for the
   * password again (or, without redirect, answered 401 `auth_too_old`). Whole seconds, >= 0.
   */
  maxAgeSec?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The relying side of jwt-handoff, registered by the `relyingParty` plugin. */
    relyingParty: RelyingParty;
    /** A preHandler that lets a request in only with a session, put on `request.relyingSession`. */
    requireSession(options?: RequireSessionOptions): preHandlerAsyncHookHandler;
    /** A preHandler that lets a request in only with a valid `service+jwt` carrying `scope`. */
    requireServiceToken(scope: string): preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    /** The session, on routes guarded by `app.requireSession()`. */
    relyingSession: RelyingSession;
    /** The verified service token's claims, on routes guarded by `app.requireServiceToken()`. */
    serviceToken: ServiceClaims;
  }
}

/**
 * Makes a fastify app a relying service of a jwt-handoff issuer (docs/design.md sections 1 and 2).
 * It owns `/handoff/start`, `/handoff/callback`, `/handoff/complete`, `/logout/everything`,
 * `/logout/complete` and `/backchannel-logout`
 * (under `prefix`), the three verifiers, the issuer's JWKS and its readiness, revocation, the
 * stores and their purge timer, all closed with the app.
 */
async function relyingPartyPlugin(app: FastifyInstance, options: RelyingPartyOptions): Promise<void> {
  const settings = resolveRelyingPartyOptions(options);
  const now = options.now ?? Date.now;
  const sessionTimeouts = {
    idleMs: settings.sessionIdleTimeoutMs,
    absoluteMs: settings.sessionAbsoluteTimeoutMs,
  };
  const stores =
    options.stores ??
    (options.redisUrl !== undefined
      ? createRedisRelyingStores({
          url: options.redisUrl,
          keyPrefix: settings.redisKeyPrefix,
          sessionTimeouts,
          activityRetentionMs: settings.activityRetentionMs,
          // The outage itself is answered by every request (503) and /readyz; the log says when.
          onConnectionEvent: (event) =>
            event.state === 'ready'
              ? app.log.info('the Redis store is connected')
              : app.log.warn({ err: event.error }, 'the Redis store cannot be reached'),
          now,
        })
      : createSqliteRelyingStores({
          dataDir: options.dataDir as string,
          fileName: options.databaseFile,
          sessionTimeouts,
          now,
        }));
  const ownsStores = options.stores === undefined;
  const registry = options.metrics ?? new MetricsRegistry();

  // The issuer's discovery document, when asked for: where browsers go and, without a jwksUrl,
  // where the keys are. Its issuer must be ours exactly, or nothing from it is used and the
  // service stays not ready (docs/design.md, "Discovery").
  const caDispatcher =
    options.keySource || !options.tlsCa
      ? undefined
      : new Agent({ connect: trustedCaConnectOptions(options.tlsCa) });
  const discovery = settings.discovery
    ? createDiscoveryClient({
        ...options.jwks,
        ...(caDispatcher ? { dispatcher: caDispatcher } : {}),
        issuer: settings.issuer,
        onFetchError: (err) =>
          app.log.error({ err: err.message }, 'cannot use the issuer discovery document'),
        // Called after a fetch completes, by which time `discoveredKeys` below exists.
        onChange: (endpoints) => discoveredKeys?.use(endpoints.jwksUri),
      })
    : undefined;
  // The issuer's keys: prefetched once the app is ready, refreshed in the background before they
  // expire, served stale for a bounded time when the issuer is unreachable (docs/keys.md).
  const jwksClient = (url: string) =>
    createJwksClient({
      ...options.jwks,
      ...(caDispatcher ? { dispatcher: caDispatcher } : {}),
      url,
      metrics: registry,
      metricPrefix: `${settings.metricPrefix}_jwks`,
      onFetchError: (err) => app.log.warn({ err: err.message }, 'cannot fetch the issuer keys'),
    });
  const jwks = options.keySource || settings.jwksUrl === undefined ? undefined : jwksClient(settings.jwksUrl);
  const discoveredKeys =
    options.keySource || jwks || !discovery
      ? undefined
      : createDiscoveredKeySource(discovery, jwksClient, (from, to) =>
          app.log.warn({ from, to }, 'the discovered jwks_uri changed; restart to follow it'),
        );
  const keys = (options.keySource ?? jwks ?? discoveredKeys) as KeySource;
  const isReady = () => keys.isReady() && (discovery?.isReady() ?? true) && (stores.isReady?.() ?? true);
  const metrics = createRelyingMetrics(registry, settings.metricPrefix, {
    stores,
    keysReady: () => keys.isReady(),
  });
  const revocation = createRevocation({
    store: stores.revocations,
    maxTokenLifetimeSec: settings.handoffMaxLifetimeSec,
    clockToleranceSec: settings.clockToleranceSec,
    txnTtlMs: settings.txnTtlMs,
    now,
  });

  // Every verifier shares the issuer, audience, algorithms, keys, leeway and clock; each has its
  // own profile, so no kind of token is accepted where another is expected.
  const common = {
    issuer: settings.issuer,
    audience: settings.clientId,
    algorithms: settings.algorithms,
    keySource: keys,
    clockToleranceSec: settings.clockToleranceSec,
    now,
  };
  const verifyHandoffToken = createVerifier<HandoffClaims>({
    ...common,
    ...handoffVerifierOptions({
      replayStore: stores.usedJtis,
      maxLifetimeSec: settings.handoffMaxLifetimeSec,
      isRevoked: (claims, trace) => revocation.isRevoked(claims, trace),
    }),
  });
  const verifyLogoutToken = createVerifier<LogoutClaims>({
    ...common,
    ...logoutVerifierOptions({ replayStore: stores.usedJtis }),
  });
  const verifyKeysChangedToken = createVerifier<KeysChangedClaims>({
    ...common,
    ...keysChangedVerifierOptions({ replayStore: stores.usedJtis }),
  });
  const onKeysChanged = createKeysChangedEvent({ verifyKeysChangedToken, keys, metrics, now });
  const verifyServiceToken = createVerifier<ServiceClaims>({
    ...common,
    ...serviceVerifierOptions({ verifiedTokenCache: options.verifiedTokenCache }),
  });
  const authorizeServiceCall = createServiceTokenAuth(verifyServiceToken, settings.clientId, (reason) =>
    metrics.tokenRejected({ kind: 'service', reason }),
  );

  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);
  const sessionCookie = cookieSpec(settings.publicUrl, settings.sessionCookie);
  const sessions = createSessionCookies<RelyingSession, VerifiedHandoff>({
    store: stores.sessions,
    cookie: sessionCookie,
    now,
  });
  const stateCookie = new StateCookie({
    publicUrl: settings.publicUrl,
    name: settings.handoffStateCookie,
    // Over plain http only: over https the state cookie is `__Host-` on `/` (state-cookie.ts).
    path: `${settings.prefix}/handoff`,
    secret: settings.sessionSecret,
    homePath: settings.homePath,
    now,
  });

  // Refusals by the plugin's routes and guards are answered the plugin's way (`renderError`),
  // whatever error handler the app has, so any fastify app gets the stable reason codes.
  // Its "Start again" link starts a new handoff, back to the app's home.
  const startPath = (returnTo: string, start: { maxAgeSec?: number } = {}) =>
    `${settings.prefix}/handoff/start?return_to=${encodeURIComponent(returnTo)}${
      start.maxAgeSec === undefined ? '' : `&max_age=${start.maxAgeSec}`
    }`;
  const startAgain = startPath(settings.homePath);
  const render =
    options.renderError ??
    ((error: AppError, request: FastifyRequest, reply: FastifyReply) =>
      sendAppError(settings.serviceName, error, request, reply, { startHref: startAgain }));
  const handleError = createErrorHandler(render);

  const relyingParty: RelyingParty = {
    options: settings,
    stores,
    metrics: registry,
    keys,
    revocation,
    isReady,
    currentSession: (request) => sessions.current(request),
    endSession: (request, reply) => sessions.end(request, reply),
    signOutToken: (request) => {
      const id = request.cookies[sessionCookie.name];
      return id ? signOutToken(id) : undefined;
    },
    startPath,
  };
  app.decorate('relyingParty', relyingParty);
  app.decorateRequest('relyingSession', null as unknown as RelyingSession);
  app.decorateRequest('serviceToken', null as unknown as ServiceClaims);
  app.decorate('requireSession', (guard: RequireSessionOptions = {}): preHandlerAsyncHookHandler => {
    const { maxAgeSec } = guard;
    if (maxAgeSec !== undefined) checkMaxAgeSec(maxAgeSec);
    return async function requireSession(request, reply) {
      let session: RelyingSession | undefined;
      try {
        session = await sessions.current(request);
      } catch (err) {
        // A store outage is answered the plugin's way (503 store_unavailable), not by the app's
        // error handler, which knows nothing of the stores.
        if (err instanceof StoreUnavailableError) return handleError(err, request, reply);
        throw err;
      }
      // A session from a sign-in older than asked counts as none, for this route: the handoff
      // it is sent through asks the issuer for max_age, and its completion checks auth_time.
      const recent =
        maxAgeSec === undefined ||
        (session !== undefined &&
          isRecentSignIn(session.claims.auth_time, maxAgeSec, now(), settings.clockToleranceSec));
      if (session && recent) {
        request.relyingSession = session;
        return;
      }
      if (guard.redirect ?? isBrowserNavigation(request)) {
        return reply
          .header('cache-control', 'no-store')
          .redirect(relyingParty.startPath(request.url, { maxAgeSec }), 303);
      }
      const refusal = session
        ? new AppError('auth_too_old', 'this needs a more recent sign-in')
        : new AppError('session_missing', 'not signed in');
      return handleError(refusal, request, reply);
    };
  });
  app.decorate('requireServiceToken', (scope: string): preHandlerAsyncHookHandler => {
    return async function requireServiceToken(request, reply) {
      try {
        request.serviceToken = await authorizeServiceCall(request, scope);
        return undefined;
      } catch (err) {
        if (err instanceof AppError) return handleError(err, request, reply);
        throw err;
      }
    };
  });

  await app.register(
    async (routes) => {
      routes.setErrorHandler(handleError);
      if (!routes.hasContentTypeParser('application/x-www-form-urlencoded'))
        await routes.register(fastifyFormbody);
      await routes.register(handoffRoutes, {
        authorizationEndpoint: discovery
          ? async () => {
              try {
                return (await discovery.endpoints()).authorizationEndpoint;
              } catch {
                throw new AppError(
                  'discovery_unavailable',
                  'Signing in is not possible right now: the identity service cannot be reached. Try again shortly.',
                );
              }
            }
          : async () => settings.authorizationEndpoint,
        clientId: settings.clientId,
        callbackUrl: settings.callbackUrl,
        completePath: `${settings.prefix}/handoff/complete`,
        homePath: settings.homePath,
        txnTtlMs: settings.txnTtlMs,
        clockToleranceSec: settings.clockToleranceSec,
        sessions,
        txns: stores.txns,
        activity: stores.activity,
        stateCookie,
        verifyHandoffToken,
        revocation,
        metrics,
        now,
      });
      await routes.register(endSessionRoutes, {
        clientId: settings.clientId,
        publicUrl: settings.publicUrl,
        endSessionEndpoint: settings.endSessionEndpoint,
        postLogoutRedirectUri: settings.postLogoutRedirectUri,
        signedOutPath: settings.signedOutPath,
        sessionCookie,
        stateCookieName: `${settings.sessionCookie}_logout`,
        sessions,
      });
      await routes.register(backchannelLogoutRoute, {
        verifyLogoutToken,
        sessions: stores.sessions,
        revocation,
        metrics,
        onKeysChanged,
      });
    },
    { prefix: settings.prefix },
  );

  let purgeTimer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    jwks?.start();
    discovery?.start();
    discoveredKeys?.start();
    purgeTimer = setInterval(() => {
      purgeExpired(stores, now(), settings.activityRetentionMs).catch((err) =>
        app.log.error({ err }, 'purge failed'),
      );
    }, settings.purgeIntervalMs);
    purgeTimer.unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer);
    await Promise.all([jwks?.close(), discovery?.close(), discoveredKeys?.close()]);
    if (ownsStores) await stores.close?.();
  });
}

/** Deletes what has expired from the stores that do not expire rows by themselves. */
async function purgeExpired(stores: RelyingStores, at: number, activityRetentionMs: number): Promise<void> {
  await Promise.all([
    stores.sessions.purgeExpired?.(at),
    stores.usedJtis.purgeExpired?.(at),
    stores.txns.purgeExpired?.(at),
    stores.revocations.purgeExpired?.(at),
    stores.activity.purgeBefore?.(at - activityRetentionMs),
  ]);
}

// A browser following a link or typing an address: sending it to sign in is what it wants.
function isBrowserNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  return request.routeOptions.config?.html === true || (request.headers.accept ?? '').includes('text/html');
}

/** The relying-party plugin (see {@link RelyingPartyOptions}); register it once per app. */
export const relyingParty = fp(relyingPartyPlugin, { name: '@jwt-handoff/relying-party', fastify: '5.x' });
