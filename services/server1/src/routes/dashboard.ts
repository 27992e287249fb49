import { sendPage } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { ActivityPanel } from '../activity/activity-panel.js';
import type { Server1Config } from '../config.js';
import type { SessionManager } from '../session/session-manager.js';
import { dashboardPage } from '../views/pages.js';

/** What the dashboard route uses. */
export interface DashboardRouteOptions {
  /** The clients the dashboard links to. */
  config: Pick<Server1Config, 'clients'>;
  /** The signed-in session, and the clients the user was handed off to. */
  sessions: Pick<SessionManager, 'current' | 'visitedClients'>;
  /** The "your activity" panels, fetched from the visited clients' APIs. */
  activityPanel: ActivityPanel;
}

/** GET /: the signed-in user's dashboard, or the way to sign in. */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardRouteOptions): Promise<void> {
  const { config, sessions, activityPanel } = options;

  app.get('/', { config: { html: true } }, async (request, reply) => {
    const signedIn = await sessions.current(request);
    if (!signedIn) return reply.redirect('/login?return_to=%2F', 303);
    // Only clients the user has been handed off to are asked: any other has nothing to report,
    // and need not learn that this user exists.
    const { user, signOutToken } = signedIn;
    const visited = await sessions.visitedClients(user);
    const activity = await activityPanel(user.id, visited, request.log);
    return sendPage(reply, dashboardPage({ user, clients: config.clients, activity, signOutToken }));
  });
}
