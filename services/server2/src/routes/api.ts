import { AppError } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import { activityReport } from '../activity/activity-report.js';
import type { Server2Context } from '../context.js';

/** The scope `GET /api/users/:sub/activity` requires. */
export const ACTIVITY_SCOPE = 'activity:read';

/**
 * The API other services call with a `service+jwt` (DESIGN.md section 2). Only tokens of that
 * profile, from the configured issuer, for this service's audience, get in.
 */
export async function apiRoutes(app: FastifyInstance, ctx: Server2Context): Promise<void> {
  const { sessionStore, activity, authorizeServiceCall, now } = ctx;

  app.get('/api/users/:sub/activity', async (request, reply) => {
    await authorizeServiceCall(request, ACTIVITY_SCOPE);
    const { sub } = request.params as { sub: string };
    if (sub.length === 0 || sub.length > 256) throw new AppError('invalid_request', 'sub is not a user id');
    reply.header('cache-control', 'no-store');
    return activityReport(sub, { sessions: sessionStore, activity }, now());
  });
}
