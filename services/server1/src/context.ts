import type { MetricsRegistry } from '@jwt-handoff/shared';
import type { ClientActivity } from './activity/activity-panel.js';
import type { LoginThrottle } from './auth/login-throttle.js';
import type { PasswordHasher } from './auth/password-hasher.js';
import type { Server1Config } from './config.js';
import type { KeyRing } from './keys/key-ring.js';
import type { SignOut } from './logout/sign-out.js';
import type { SessionManager } from './session/session-manager.js';
import type { UserStore } from './stores/user-store.js';

/** Counters server1's routes increment. */
export interface Server1Metrics {
  readonly registry: MetricsRegistry;
  readonly login: (labels: { outcome: 'success' | 'failure' | 'throttled' }) => void;
  readonly handoffIssued: (labels: { client: string }) => void;
  readonly logoutDelivery: (labels: { outcome: string }) => void;
  readonly jwksServed: (labels: { status: '200' | '304' }) => void;
}

/** What every route plugin of server1 is given: built once by buildApp. */
export interface Server1Context {
  readonly config: Server1Config;
  readonly users: UserStore;
  readonly sessions: SessionManager;
  readonly passwordHasher: PasswordHasher;
  readonly loginThrottle: LoginThrottle;
  readonly keyRing: KeyRing;
  readonly metrics: Server1Metrics;
  /** Tells the clients about sign-outs (back-channel logout). */
  readonly signOut: SignOut;
  /** The dashboard's "your activity" panels, fetched from the clients' APIs. */
  readonly activityPanel: (sub: string) => Promise<ClientActivity[]>;
  /** The clock, in milliseconds since the epoch. */
  readonly now: () => number;
}
