import { requireSameOriginSignOut } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server1Context } from '../context.js';

/**
 * POST /logout and POST /logout/everywhere. Neither needs a token of its own: the session
 * cookie is SameSite=Lax, so no other site's form can post it, and the Origin check turns away
 * a sibling port on the same host. Both reach the clients through the back-channel.
 */
export async function logoutRoutes(app: FastifyInstance, ctx: Server1Context): Promise<void> {
  const { config, sessions, signOut } = ctx;

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
