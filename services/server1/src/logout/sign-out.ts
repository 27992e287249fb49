import type { ClientRegistration } from '../config.js';
import type { SignedIn } from '../session/session-manager.js';
import type { LogoutOutbox } from '../stores/logout-outbox.js';
import type { SessionStore, Visit } from '../stores/session-store.js';
import type { User, UserStore } from '../stores/user-store.js';
import type { LogoutDispatcher } from './backchannel-dispatcher.js';

/** Options of {@link createSignOut}. */
export interface SignOutOptions {
  sessions: SessionStore;
  users: UserStore;
  outbox: LogoutOutbox;
  dispatcher: LogoutDispatcher;
  clients: readonly ClientRegistration[];
  /** A delivery not acknowledged within this long is given up (ms). */
  deliveryMaxAgeMs: number;
  now: () => number;
}

/** What happens beyond server1 when a user signs out. */
export interface SignOut {
  /**
   * One session ended: tell each client it was handed off to to end the sessions that came
   * from it (by sid).
   */
  session(ended: SignedIn): Promise<void>;
  /**
   * Every session of the user ends, and every token issued until now is revoked: each client
   * any of the user's sessions was handed off to is told to end all the user's sessions and
   * to refuse handoff tokens issued up to this second.
   */
  everywhere(user: User): Promise<void>;
}

/**
 * Sign-out that reaches the clients without a shared store (docs/design.md section 2). The
 * deliveries go into the durable outbox first and the dispatcher is woken, so the browser's
 * sign-out answers at once and no client outage or restart loses one.
 *
 * Only the clients the session (or the user) was handed off to are told: a client that never
 * received a handoff token for it holds nothing to end, and need not learn of the user at all.
 * Visits are recorded before a token is minted and forgotten only after the deliveries are
 * queued, so none is lost between the session's end and the queue.
 */
export function createSignOut(options: SignOutOptions): SignOut {
  const { sessions, outbox, dispatcher, now } = options;
  const withBackchannel = new Set(
    options.clients.filter((client) => client.backchannelLogoutUri !== undefined).map((client) => client.id),
  );

  const tell = async (
    visits: readonly Visit[],
    sub: string,
    sid: string | undefined,
    tokensValidAfter: number | undefined,
  ) => {
    const clientIds = new Set(visits.map((visit) => visit.clientId).filter((id) => withBackchannel.has(id)));
    if (clientIds.size > 0) {
      const deliveries = [...clientIds].map((clientId) => ({ clientId, sub, sid, tokensValidAfter }));
      await outbox.enqueue(deliveries, now(), options.deliveryMaxAgeMs);
      dispatcher.kick();
    }
    await sessions.forgetVisits(visits);
  };

  return {
    async session(ended) {
      const visits = await sessions.visitsOfSession(ended.session.sid, now());
      await tell(visits, ended.user.id, ended.session.sid, undefined);
    },
    async everywhere(user) {
      const at = now();
      await options.users.setTokensValidAfter(user.id, at);
      await sessions.deleteAllForUser(user.id);
      // Read after the sessions are gone, so no visit can be added to what this sign-out
      // covers; the ended sessions' visits (the signing-out browser's own included) are kept
      // until here.
      const visits = await sessions.visitsOfUser(user.id, now());
      // Whole seconds, as iat is: a token issued in the same second as the revocation is
      // refused too, because it cannot be told apart from one issued just before it.
      await tell(visits, user.id, undefined, Math.floor(at / 1000));
    },
  };
}
