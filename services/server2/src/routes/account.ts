import { type RelyingParty, requireSignOutForm, sendPage } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import { homePage, sensitivePage, signedOutPage } from '../views/pages.js';

/** What the account routes use, besides the plugin's `app.requireSession()`. */
export interface AccountRoutesOptions {
  /** server2's public URL: sign-out posts must come from this origin. */
  publicUrl: string;
  /** How recent a sign-in GET /sensitive demands, in seconds. */
  sensitiveMaxAgeSec: number;
  currentSession: RelyingParty['currentSession'];
  signOutToken: RelyingParty['signOutToken'];
  endSession: RelyingParty['endSession'];
  /** The clock, in milliseconds since the epoch: the page reads times relative to it. */
  now: () => number;
  /** server1's URL: "sign out of everything" leads there, so the home page's forms may too. */
  issuerUrl: string;
}

/**
 * GET / (sends a browser without a session to sign in), GET /sensitive (demands a recent sign-in), GET /me (401 without one), POST /logout
 * and the signed-out page. Sessions come from the relying-party plugin. The sign-out form carries
 * the session's sign-out token (docs/design.md section 5).
 */
export async function accountRoutes(app: FastifyInstance, options: AccountRoutesOptions): Promise<void> {
  const { publicUrl, sensitiveMaxAgeSec, currentSession, signOutToken, endSession, now, issuerUrl } = options;

  app.get('/', { config: { html: true }, preHandler: app.requireSession() }, async (request, reply) =>
    sendPage(reply, homePage(request.relyingSession, signOutToken(request) as string, now(), issuerUrl)),
  );

  // A page that demands a recent sign-in: an older one goes through a handoff with max_age, and
  // server1 asks for the password again.
  app.get(
    '/sensitive',
    { config: { html: true }, preHandler: app.requireSession({ maxAgeSec: sensitiveMaxAgeSec }) },
    async (request, reply) => sendPage(reply, sensitivePage(request.relyingSession, sensitiveMaxAgeSec)),
  );

  app.get('/me', { preHandler: app.requireSession({ redirect: false }) }, async (request, reply) => {
    const session = request.relyingSession;
    const { claims } = session;
    reply.header('cache-control', 'no-store');
    return {
      sub: session.sub,
      name: claims.name,
      email: claims.email,
      iss: claims.iss,
      auth_time: claims.auth_time,
      session: {
        created_at: new Date(session.createdAt).toISOString(),
        expires_at: new Date(session.expiresAt).toISOString(),
      },
      claims,
    };
  });

  app.post('/logout', { config: { html: true } }, async (request, reply) => {
    const session = await currentSession(request);
    requireSignOutForm(request, publicUrl, session && signOutToken(request));
    await endSession(request, reply);
    return reply.redirect('/signed-out', 303);
  });

  app.get('/signed-out', { config: { html: true } }, async (request, reply) =>
    sendPage(
      reply,
      signedOutPage({ everywhere: (request.query as { everywhere?: unknown }).everywhere === '1' }),
    ),
  );
}
