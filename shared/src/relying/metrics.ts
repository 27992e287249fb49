import type { ReasonCode } from '../errors.js';
import type { MetricsRegistry } from '../http/metrics.js';
import type { RelyingStores } from './stores.js';

/** The counters the relying side's routes increment. */
export interface RelyingMetrics {
  readonly handoff: (labels: { outcome: 'completed' | 'rejected' }) => void;
  readonly tokenRejected: (labels: {
    kind: 'handoff' | 'logout' | 'service' | 'keys-changed';
    reason: ReasonCode;
  }) => void;
  readonly backchannelLogout: (labels: { scope: 'session' | 'user' }) => void;
  /** A keys-changed event was verified and its kids revoked. */
  readonly keysRevoked: () => void;
}

/**
 * Declares the relying side's metrics on `registry`, named `${prefix}_…` (`server2_handoffs_total`
 * on server2): counters for handoffs, refused tokens and back-channel logouts, and gauges read at
 * scrape time for the stored sessions and used jtis and whether the issuer's keys are held.
 */
export function createRelyingMetrics(
  registry: MetricsRegistry,
  prefix: string,
  sources: { stores: Pick<RelyingStores, 'sessions' | 'usedJtis'>; keysReady: () => boolean },
): RelyingMetrics {
  const { stores, keysReady } = sources;
  // NaN while the store cannot be counted (an outage of a shared store): the other metrics,
  // the outage's own signs among them, are still served.
  const orNaN = (count: () => Promise<number>) => () => count().catch(() => Number.NaN);
  registry.gauge(
    `${prefix}_sessions`,
    'Sessions currently stored.',
    orNaN(() => stores.sessions.count()),
  );
  registry.gauge(
    `${prefix}_used_jtis`,
    'Used jtis currently recorded.',
    orNaN(() => stores.usedJtis.count()),
  );
  registry.gauge(`${prefix}_jwks_ready`, '1 once the issuer keys are held.', () => (keysReady() ? 1 : 0));
  return {
    handoff: registry.counter(`${prefix}_handoffs_total`, 'Handoffs by outcome.'),
    tokenRejected: registry.counter(
      `${prefix}_token_rejections_total`,
      'Refused tokens, by kind and reason.',
    ),
    backchannelLogout: registry.counter(
      `${prefix}_backchannel_logouts_total`,
      'Back-channel logouts, by scope.',
    ),
    keysRevoked: registry.counter(
      `${prefix}_keys_changed_events_total`,
      'Keys-changed events (issuer key revocations) acted on.',
    ),
  };
}
