import { sendPage } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server1Context } from '../context.js';
import { dashboardPage } from '../views/pages.js';

/** GET /: the signed-in user's dashboard, or the way to sign in. */
export async function dashboardRoutes(app: FastifyInstance, ctx: Server1Context): Promise<void> {
  app.get('/', { config: { html: true } }, async (request, reply) => {
    const signedIn = await ctx.sessions.current(request);
    if (!signedIn) return reply.redirect('/login?return_to=%2F', 303);
    const activity = await ctx.activityPanel(signedIn.user.id);
    return sendPage(reply, dashboardPage({ user: signedIn.user, clients: ctx.config.clients, activity }));
  });
}
