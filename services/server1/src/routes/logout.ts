import { requireSameOriginSignOut } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server1Config } from '../config.js';
import type { SignOut } from '../logout/sign-out.js';
import type { SessionManager } from '../session/session-manager.js';

/** What the sign-out routes use. */
export interface LogoutRouteOptions {
  /** `publicUrl`: the only origin a sign-out may come from. */
  config: Pick<Server1Config, 'publicUrl'>;
  sessions: Pick<SessionManager, 'end'>;
  /** Tells the clients about sign-outs (back-channel logout). */
  signOut: SignOut;
}

/**
 * POST /logout and POST /logout/everywhere. Neither needs a token of its own: the session
 * cookie is SameSite=Lax, so no other site's form can post it, and the Origin check turns away
 * a sibling port on the same host. Both reach the clients through the back-channel.
 */
export async function logoutRoutes(app: FastifyInstance, options: LogoutRouteOptions): Promise<void> {
  const { config, sessions, signOut } = options;

  app.post('/logout', { config: { html: true } }, async (request, reply) => {
    requireSameOriginSignOut(request, config.publicUrl);
    const ended = await sessions.end(request, reply);
    if (ended) await signOut.session(ended);
    return reply.redirect('/login?signed_out=1', 303);
  });

  app.post('/logout/everywhere', { config: { html: true } }, async (request, reply) => {
    requireSameOriginSignOut(request, config.publicUrl);
    const ended = await sessions.end(request, reply);
    if (ended) await signOut.everywhere(ended.user);
    return reply.redirect('/login?signed_out=1', 303);
  });
}
