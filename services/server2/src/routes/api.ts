import { AppError } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server2Context } from '../context.js';

/** The scope `GET /api/users/:sub/activity` requires. */
export const ACTIVITY_SCOPE = 'activity:read';
const RECENT_HANDOFFS = 10;

/**
 * The API other services call with a `service+jwt` (DESIGN.md section 2). Only tokens of that
 * profile, from the configured issuer, for this service's audience, get in.
 */
export async function apiRoutes(app: FastifyInstance, ctx: Server2Context): Promise<void> {
  const { sessionStore, activity, authorizeServiceCall, now } = ctx;

  app.get('/api/users/:sub/activity', async (request, reply) => {
    await authorizeServiceCall(request, ACTIVITY_SCOPE);
    const { sub } = request.params as { sub: string };
    if (sub.length === 0 || sub.length > 256)
      throw new AppError(400, 'invalid_request', 'sub is not a user id');
    const sessions = await sessionStore.listForSub(sub, now());
    const handoffs = await activity.recentHandoffs(sub, RECENT_HANDOFFS);
    const lastSeen = sessions.reduce((latest, session) => Math.max(latest, session.lastSeenAt), 0);
    reply.header('cache-control', 'no-store');
    return {
      sub,
      active_sessions: sessions.length,
      last_seen_at: lastSeen > 0 ? new Date(lastSeen).toISOString() : null,
      sessions: sessions.map((session) => ({
        started_at: new Date(session.createdAt).toISOString(),
        last_seen_at: new Date(session.lastSeenAt).toISOString(),
        expires_at: new Date(session.expiresAt).toISOString(),
      })),
      recent_handoffs: handoffs.map((at) => new Date(at).toISOString()),
    };
  });
}
