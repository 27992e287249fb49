import { AppError, requireSameOriginSignOut, sendPage } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server2Context } from '../context.js';
import { homePage, signedOutPage } from '../views/pages.js';

/** GET /, GET /me, POST /logout and the signed-out page. */
export async function accountRoutes(app: FastifyInstance, ctx: Server2Context): Promise<void> {
  const { config, sessions } = ctx;

  app.get('/', { config: { html: true } }, async (request, reply) => {
    const session = await sessions.current(request);
    if (!session) return reply.redirect('/handoff/start?return_to=%2F', 303);
    return sendPage(reply, homePage(session));
  });

  app.get('/me', async (request, reply) => {
    const session = await sessions.current(request);
    if (!session) throw new AppError('session_missing', 'not signed in');
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
    requireSameOriginSignOut(request, config.publicUrl);
    await sessions.end(request, reply);
    return reply.redirect('/signed-out', 303);
  });

  app.get('/signed-out', { config: { html: true } }, async (_request, reply) =>
    sendPage(reply, signedOutPage()),
  );
}
