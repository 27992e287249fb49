import {
  ACTIVITY_SCOPE,
  createServiceApp,
  healthRoutes,
  type RelyingStores,
  relyingParty,
  requireSignOutForm,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';

/** Where a broken app is and whom it trusts; register `${publicUrl}/handoff/callback` at server1. */
export interface BrokenAppOptions {
  /** server1's public URL: the exact `iss` accepted. */
  issuer: string;
  jwksUrl: string;
  publicUrl: string;
  /** Its client id at server1. */
  clientId: string;
  dataDir: string;
}

/** Signs the apps' state cookies (the plugin's, and the hand-rolled routes'). */
export const BROKEN_APP_SECRET = 'a-broken-app-test-secret-of-32-chars-or-more';

/** What a broken variant changes in the app. */
export interface AppChanges {
  /** Mounts the plugin under this prefix, so that hand-rolled routes take its place at the root. */
  prefix?: string;
  /** The plugin's stores, replaced. */
  stores?: RelyingStores;
  /** Adds the hand-rolled routes (directly on `app`, not as an encapsulated plugin). */
  routes?: (app: FastifyInstance) => void;
}

/**
 * A relying app shaped like server2 (`/`, `/me`, `/logout`, the handoff routes,
 * `/backchannel-logout`, the activity API, `/readyz`) on the relyingParty plugin, for a broken
 * variant (test/apps/broken/*.ts) to change one piece of. Whatever the changes do not replace
 * at the root is the plugin's own, sound behaviour.
 */
export async function buildRelyingApp(
  options: BrokenAppOptions,
  changes: AppChanges = {},
): Promise<FastifyInstance> {
  const app = await createServiceApp({
    serviceName: options.clientId,
    publicUrl: options.publicUrl,
    logLevel: 'silent',
    trustProxy: false,
    bodyLimitBytes: 16 * 1024,
    cookieSecret: BROKEN_APP_SECRET,
  });
  await app.register(relyingParty, {
    ...options,
    sessionSecret: BROKEN_APP_SECRET,
    prefix: changes.prefix,
    stores: changes.stores,
  });
  const rp = app.relyingParty;
  await app.register(healthRoutes, { isReady: rp.isReady, metrics: rp.metrics });
  app.get('/', { config: { html: true } }, async (request, reply) =>
    (await rp.currentSession(request)) ? 'hello' : reply.redirect('/handoff/start?return_to=%2F', 303),
  );
  app.get('/me', { preHandler: app.requireSession({ redirect: false }) }, async (request) => ({
    sub: request.relyingSession.sub,
  }));
  app.post('/logout', { config: { html: true } }, async (request, reply) => {
    const session = await rp.currentSession(request);
    requireSignOutForm(request, options.publicUrl, session && rp.signOutToken(request));
    await rp.endSession(request, reply);
    return reply.redirect('/', 303);
  });
  changes.routes?.(app);
  if (!app.hasRoute({ method: 'GET', url: '/api/users/:sub/activity' })) {
    app.get(
      '/api/users/:sub/activity',
      { preHandler: app.requireServiceToken(ACTIVITY_SCOPE) },
      async (request) => ({
        sub: (request.params as { sub: string }).sub,
      }),
    );
  }
  // The plugin's back-channel route moved under the prefix: the root one hands the post to it.
  if (changes.prefix && !app.hasRoute({ method: 'POST', url: '/backchannel-logout' })) {
    app.post('/backchannel-logout', async (request, reply) => {
      const forwarded = await app.inject({
        method: 'POST',
        url: `${changes.prefix}/backchannel-logout`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(request.body as Record<string, string>).toString(),
      });
      return reply
        .code(forwarded.statusCode)
        .type(String(forwarded.headers['content-type'] ?? 'text/plain'))
        .send(forwarded.body);
    });
  }
  await app.ready();
  return app;
}
