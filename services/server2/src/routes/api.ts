import type { ActivityStore, RelyingSessionStore } from '@jwt-handoff/shared';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import { activityReport } from '../activity/activity-report.js';

/** What the activity API uses. */
export interface ApiRoutesOptions {
  /**
   * Who gets in: the relying plugin's `app.requireServiceToken(ACTIVITY_SCOPE)`, always, in
   * server2 (app.ts). An option only so that the benchmarks can measure the same route without
   * it (bench/servers/server2-no-auth.mjs), which is how they price authentication.
   */
  authenticate: preValidationAsyncHookHandler;
  sessions: Pick<RelyingSessionStore, 'listForSub'>;
  activity: Pick<ActivityStore, 'recentHandoffs'>;
  now: () => number;
}

// A user id is opaque to server2, but never empty (400 invalid_request). Its length is bounded
// before this by fastify's router (maxParamLength, 100): a longer one is a 414.
const ActivityParams = Type.Object({ sub: Type.String({ minLength: 1 }) });

/**
 * The API other services call with a `service+jwt` (docs/design.md section 2). Only tokens of that
 * profile, from the configured issuer, for this service's audience, with the scope, get in.
 */
export async function apiRoutes(app: FastifyInstance, options: ApiRoutesOptions): Promise<void> {
  const { authenticate, sessions, activity, now } = options;

  app.get<{ Params: Static<typeof ActivityParams> }>(
    '/api/users/:sub/activity',
    // The token is checked before the params are validated: a caller without one learns nothing.
    { schema: { params: ActivityParams }, preValidation: authenticate },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return activityReport(request.params.sub, { sessions, activity }, now());
    },
  );
}
