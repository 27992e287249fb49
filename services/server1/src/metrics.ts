import type { MetricsRegistry } from '@jwt-handoff/shared';

/** Counters server1's routes and its logout dispatcher increment. */
export interface Server1Metrics {
  /** Sign-in attempts, by outcome. */
  readonly login: (labels: { outcome: 'success' | 'failure' | 'throttled' | 'busy' }) => void;
  /** Handoff tokens minted, by client id. */
  readonly handoffIssued: (labels: { client: string }) => void;
  /** Back-channel logout attempts, by outcome. */
  readonly logoutDelivery: (labels: { outcome: string }) => void;
  /** JWKS documents served, by status. */
  readonly jwksServed: (labels: { status: '200' | '304' }) => void;
  /** Discovery documents served, by status. */
  readonly discoveryServed: (labels: { status: '200' | '304' }) => void;
}

/** Declares server1's counters in `registry`, which /metrics renders. */
export function createServer1Metrics(registry: MetricsRegistry): Server1Metrics {
  return {
    login: registry.counter('server1_logins_total', 'Sign-in attempts by outcome.'),
    handoffIssued: registry.counter(
      'server1_handoff_tokens_issued_total',
      'Handoff tokens minted, by client.',
    ),
    logoutDelivery: registry.counter(
      'server1_logout_deliveries_total',
      'Back-channel logout attempts, by outcome.',
    ),
    jwksServed: registry.counter('server1_jwks_requests_total', 'JWKS documents served, by status.'),
    discoveryServed: registry.counter(
      'server1_discovery_requests_total',
      'Discovery documents served, by status.',
    ),
  };
}
