import type {
  HandoffClaims,
  MetricsRegistry,
  SessionCookies,
  TokenReason,
  TokenVerifier,
} from '@jwt-handoff/shared';
import type { Server2Config } from './config.js';
import type { StateCookie } from './handoff/state-cookie.js';
import type { Session } from './stores/session-store.js';
import type { TxnStore } from './stores/txn-store.js';

/** Counters server2's routes increment. */
export interface Server2Metrics {
  readonly registry: MetricsRegistry;
  readonly handoff: (labels: { outcome: 'completed' | 'rejected' }) => void;
  readonly tokenRejected: (labels: { kind: string; reason: TokenReason }) => void;
}

/** What every route plugin of server2 is given: built once by buildApp. */
export interface Server2Context {
  readonly config: Server2Config;
  readonly sessions: SessionCookies<Session, HandoffClaims>;
  readonly txns: TxnStore;
  readonly stateCookie: StateCookie;
  readonly verifyHandoffToken: TokenVerifier<HandoffClaims>;
  readonly metrics: Server2Metrics;
  /** The clock, in milliseconds since the epoch. */
  readonly now: () => number;
}
