import { requireSignOutForm } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server1Config } from '../config.js';
import type { SignOut } from '../logout/sign-out.js';
import type { SessionManager } from '../session/session-manager.js';

/** What the sign-out routes use. */
export interface LogoutRouteOptions {
  /** `publicUrl`: the only origin a sign-out may come from. */
  config: Pick<Server1Config, 'publicUrl'>;
  sessions: Pick<SessionManager, 'current' | 'end'>;
  /** Tells the clients about sign-outs (back-channel logout). */
  signOut: SignOut;
}

/**
 * POST /logout and POST /logout/everywhere, the dashboard's two sign-out forms. Each post must
 * carry the session's sign-out token (`csrf_token`) and not come from another origin
 * (docs/design.md section 5); without a session there is nothing to end, and the browser lands
 * on the signed-out page. Both reach the clients through the back-channel.
 */
export async function logoutRoutes(app: FastifyInstance, options: LogoutRouteOptions): Promise<void> {
  const { config, sessions, signOut } = options;

  app.post('/logout', { config: { html: true } }, async (request, reply) => {
    requireSignOutForm(request, config.publicUrl, (await sessions.current(request))?.signOutToken);
    const ended = await sessions.end(request, reply);
    if (ended) await signOut.session(ended);
    return reply.redirect('/login?signed_out=1', 303);
  });

  app.post('/logout/everywhere', { config: { html: true } }, async (request, reply) => {
    requireSignOutForm(request, config.publicUrl, (await sessions.current(request))?.signOutToken);
    const ended = await sessions.end(request, reply);
    if (ended) await signOut.everywhere(ended.user);
    return reply.redirect('/login?signed_out=1', 303);
  });
}
