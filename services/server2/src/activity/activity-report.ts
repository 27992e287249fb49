import type { ActivityStore, RelyingSessionStore } from '@jwt-handoff/shared';

/** What `GET /api/users/:sub/activity` answers. */
export interface ActivityReport {
  sub: string;
  active_sessions: number;
  last_seen_at: string | null;
  sessions: Array<{ started_at: string; last_seen_at: string; expires_at: string }>;
  recent_handoffs: string[];
}

const RECENT_HANDOFFS = 10;

/** What server2 knows of a user: live sessions started through handoffs, and recent handoffs. */
export async function activityReport(
  sub: string,
  stores: {
    sessions: Pick<RelyingSessionStore, 'listForSub'>;
    activity: Pick<ActivityStore, 'recentHandoffs'>;
  },
  now: number,
): Promise<ActivityReport> {
  const sessions = await stores.sessions.listForSub(sub, now);
  const handoffs = await stores.activity.recentHandoffs(sub, RECENT_HANDOFFS);
  const lastSeen = sessions.reduce((latest, session) => Math.max(latest, session.lastSeenAt), 0);
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
}
