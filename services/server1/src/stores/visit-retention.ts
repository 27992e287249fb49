/**
 * How often a visit (a session handed off to a client) is written, and how long it is kept;
 * the same for both store engines.
 *
 * Every `/handoff/authorize` records its visit, and a browser that keeps coming back would
 * write the same row each time (the largest store line of server1's authorize route in a CPU
 * profile, docs/benchmarks.md). So a visit of the same client by the same session is written
 * at most once a minute: a repeat within the minute finds the row and writes nothing.
 */
export const VISIT_REWRITE_INTERVAL_MS = 60_000;

/**
 * Until when a visit written at `now` is kept: one absolute session lifetime (a client session
 * begun at the visit could live that long), plus the rewrite interval, because the last visit
 * may have come up to that much after the last write. So a visit is always kept at least one
 * absolute session lifetime after the latest one, written or not, and at most a minute longer.
 */
export function visitKeptUntil(now: number, absoluteMs: number): number {
  return now + absoluteMs + VISIT_REWRITE_INTERVAL_MS;
}
