import type { ClientRegistration } from '../config.js';
import type { SignedIn } from '../session/session-manager.js';
import type { LogoutOutbox } from '../stores/logout-outbox.js';
import type { SessionStore } from '../stores/session-store.js';
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
  /** One session ended: tell every client to end the sessions that came from it (by sid). */
  session(ended: SignedIn): Promise<void>;
  /**
   * Every session of the user ends, and every token issued until now is revoked: clients are
   * told to end all the user's sessions and to refuse handoff tokens issued up to this second.
   */
  everywhere(user: User): Promise<void>;
}

/**
 * Sign-out that reaches the clients without a shared store (docs/design.md section 2). The
 * deliveries go into the durable outbox first and the dispatcher is woken, so the browser's
 * sign-out answers at once and no client outage or restart loses one.
 */
export function createSignOut(options: SignOutOptions): SignOut {
  const { outbox, dispatcher, now } = options;
  const withBackchannel = options.clients.filter((client) => client.backchannelLogoutUri !== undefined);

  const enqueue = async (sub: string, sid: string | undefined, tokensValidAfter: number | undefined) => {
    if (withBackchannel.length === 0) return;
    const deliveries = withBackchannel.map((client) => ({ clientId: client.id, sub, sid, tokensValidAfter }));
    await outbox.enqueue(deliveries, now(), options.deliveryMaxAgeMs);
    dispatcher.kick();
  };

  return {
    session: (ended) => enqueue(ended.user.id, ended.session.sid, undefined),
    async everywhere(user) {
      const at = now();
      await options.users.setTokensValidAfter(user.id, at);
      await options.sessions.deleteAllForUser(user.id);
      // Whole seconds, as iat is: a token issued in the same second as the revocation is
      // refused too, because it cannot be told apart from one issued just before it.
      await enqueue(user.id, undefined, Math.floor(at / 1000));
    },
  };
}
