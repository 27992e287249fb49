import type {
  HandoffClaims,
  LogoutClaims,
  MetricsRegistry,
  ServiceClaims,
  SessionCookies,
  TokenReason,
  TokenVerifier,
} from '@jwt-handoff/shared';
import type { FastifyRequest } from 'fastify';
import type { Server2Config } from './config.js';
import type { StateCookie } from './handoff/state-cookie.js';
import type { ActivityStore } from './stores/activity-store.js';
import type { RevocationStore } from './stores/revocation-store.js';
import type { Session, SessionStore } from './stores/session-store.js';
import type { TxnStore } from './stores/txn-store.js';

/** Counters server2's routes increment. */
export interface Server2Metrics {
  readonly registry: MetricsRegistry;
  readonly handoff: (labels: { outcome: 'completed' | 'rejected' }) => void;
  readonly tokenRejected: (labels: { kind: string; reason: TokenReason | 'insufficient_scope' }) => void;
  readonly backchannelLogout: (labels: { scope: 'session' | 'user' }) => void;
}

/** What every route plugin of server2 is given: built once by buildApp. */
export interface Server2Context {
  readonly config: Server2Config;
  readonly sessions: SessionCookies<Session, HandoffClaims>;
  readonly sessionStore: SessionStore;
  readonly txns: TxnStore;
  readonly activity: ActivityStore;
  readonly revocations: RevocationStore;
  readonly stateCookie: StateCookie;
  readonly verifyHandoffToken: TokenVerifier<HandoffClaims>;
  readonly verifyLogoutToken: TokenVerifier<LogoutClaims>;
  /** Checks an API call's Bearer service token and scope; throws the 401/403 when it fails. */
  readonly authorizeServiceCall: (request: FastifyRequest, scope: string) => Promise<ServiceClaims>;
  /** Whether a handoff's claims were revoked: its server1 session ended, or "sign out everywhere". */
  readonly isRevoked: (claims: { sub: string; iat: number; sid?: unknown }) => Promise<boolean>;
  readonly metrics: Server2Metrics;
  /** The clock, in milliseconds since the epoch. */
  readonly now: () => number;
}
