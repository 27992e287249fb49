import { performance } from 'node:perf_hooks';
import { ACTIVITY_SCOPE, type ServiceClient } from '@jwt-handoff/shared';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyBaseLogger } from 'fastify';
import type { ClientRegistration } from '../config.js';

// A time as server2 writes it (Date.prototype.toISOString), with an offset allowed too.
const Timestamp = Type.String({
  maxLength: 40,
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$',
});

/**
 * What a client's activity API reports of a user (server2's GET /api/users/:sub/activity), as
 * far as the dashboard reads it. Other members are allowed and ignored. The bounds are far
 * above what server2 sends (10 recent handoffs); they are there so that no answer, however
 * odd, can make the page large or slow.
 */
export const ActivityReport = Type.Object({
  sub: Type.String({ minLength: 1, maxLength: 1024 }),
  active_sessions: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  last_seen_at: Type.Union([Timestamp, Type.Null()]),
  recent_handoffs: Type.Array(Timestamp, { maxItems: 100 }),
});
export type ActivityReport = Static<typeof ActivityReport>;

/** How the dashboard got a panel: the service call, shown under it so the page teaches. */
export interface ActivityCall {
  /** The route called, as the API names it: `GET /api/users/:sub/activity`. */
  readonly route: string;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** From sending the request to having the whole answer, in milliseconds. */
  readonly durationMs: number;
  /** The `service+jwt` the call carried; the page shows its decoded parts only. */
  readonly token: string;
}

/** One client's panel on the dashboard: its report, or none when it could not be had. */
export interface ClientActivity {
  client: ClientRegistration;
  /** Undefined when the client's API failed or answered something other than a report. */
  report: ActivityReport | undefined;
  /**
   * The call that fetched the report, when it was answered with one. A failed call has none: what
   * went wrong is for the log, not the page.
   */
  call?: ActivityCall;
}

/** The activity API's route, as its documentation writes it. */
export const ACTIVITY_ROUTE = 'GET /api/users/:sub/activity';

/**
 * The dashboard's "your activity" panels of the user `sub`, one per client in `clientIds` that
 * has an API. Why a panel is missing goes to `log`, never to the page.
 */
export type ActivityPanel = (
  sub: string,
  clientIds: readonly string[],
  log: FastifyBaseLogger,
) => Promise<ClientActivity[]>;

/**
 * Fetches "your activity" from each asked-for client that has an API, in parallel, with a
 * deadline: a client that is down or slow costs the dashboard at most `timeoutMs` and shows as a
 * note. A client's answer is checked against {@link ActivityReport} before the page reads it,
 * because one client's mistake must not break the dashboard for everyone.
 */
export function createActivityPanel(
  client: ServiceClient,
  clients: readonly ClientRegistration[],
  timeoutMs: number,
): ActivityPanel {
  const withApi = clients.filter((candidate) => candidate.apiUrl !== undefined);
  return async (sub, clientIds, log) => {
    const asked = new Set(clientIds);
    return Promise.all(
      withApi
        .filter((registration) => asked.has(registration.id))
        .map(async (registration): Promise<ClientActivity> => {
          const unavailable = (details: Record<string, unknown>, message: string): ClientActivity => {
            // The addresses and error text are for operators: the page only says "unavailable".
            log.warn({ client: registration.id, ...details }, message);
            return { client: registration, report: undefined };
          };
          let call: ActivityCall;
          let body: unknown;
          const started = performance.now();
          try {
            const response = await client.getJson<unknown>({
              url: `${registration.apiUrl}/api/users/${encodeURIComponent(sub)}/activity`,
              audience: registration.id,
              scope: ACTIVITY_SCOPE,
              signal: AbortSignal.timeout(timeoutMs),
            });
            body = response.body;
            const durationMs = performance.now() - started;
            call = { route: ACTIVITY_ROUTE, status: response.status, durationMs, token: response.token };
          } catch (err) {
            return unavailable({ err }, 'activity API call failed');
          }
          if (!Value.Check(ActivityReport, body)) {
            const first = Value.Errors(ActivityReport, body).First();
            return unavailable(
              { problem: first ? `${first.path || '/'}: ${first.message}` : 'unknown' },
              'activity API answered something other than an activity report',
            );
          }
          // A report about someone else is a client bug, and not this user's to see.
          if (body.sub !== sub) return unavailable({}, 'activity API answered for another user');
          return { client: registration, report: body, call };
        }),
    );
  };
}
