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
  sessions: Pick<SessionManager, 'current'>;
  /** The "your activity" panels, fetched from the clients' APIs. */
  activityPanel: ActivityPanel;
}

/** GET /: the signed-in user's dashboard, or the way to sign in. */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardRouteOptions): Promise<void> {
  const { config, sessions, activityPanel } = options;

  app.get('/', { config: { html: true } }, async (request, reply) => {
    const signedIn = await sessions.current(request);
    if (!signedIn) return reply.redirect('/login?return_to=%2F', 303);
    const activity = await activityPanel(signedIn.user.id);
    const { user, signOutToken } = signedIn;
    return sendPage(reply, dashboardPage({ user, clients: config.clients, activity, signOutToken }));
  });
}
