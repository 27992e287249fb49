import { ACTIVITY_SCOPE, type ServiceClient } from '@jwt-handoff/shared';
import type { ClientRegistration } from '../config.js';

/** What a client's activity API reports of a user (server2's GET /api/users/:sub/activity). */
export interface ActivityReport {
  sub: string;
  active_sessions: number;
  last_seen_at: string | null;
  recent_handoffs: string[];
}

/** One client's panel on the dashboard: its report, or why there is none. */
export interface ClientActivity {
  client: ClientRegistration;
  report?: ActivityReport;
  unavailable?: string;
}

/** The dashboard's "your activity" panels of the user `sub`, one per client with an API. */
export type ActivityPanel = (sub: string) => Promise<ClientActivity[]>;

/**
 * Fetches "your activity" from every client that has an API, in parallel, with a deadline: a
 * client that is down or slow costs the dashboard at most `timeoutMs` and shows as a note.
 */
export function createActivityPanel(
  client: ServiceClient,
  clients: readonly ClientRegistration[],
  timeoutMs: number,
): ActivityPanel {
  const withApi = clients.filter((candidate) => candidate.apiUrl !== undefined);
  return async (sub: string): Promise<ClientActivity[]> =>
    Promise.all(
      withApi.map(async (registration): Promise<ClientActivity> => {
        try {
          const { body } = await client.getJson<ActivityReport>({
            url: `${registration.apiUrl}/api/users/${encodeURIComponent(sub)}/activity`,
            audience: registration.id,
            scope: ACTIVITY_SCOPE,
            signal: AbortSignal.timeout(timeoutMs),
          });
          return { client: registration, report: body };
        } catch (err) {
          return { client: registration, unavailable: (err as Error).message };
        }
      }),
    );
}
