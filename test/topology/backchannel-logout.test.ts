import { type Browser, handoff, signOut, waitFor } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { atReplica, handoffToken, meAt, reasonOf, upstreamOf, useTopology } from './client.js';
import { type MetricSamples, readMetrics, total } from './metrics.js';

// Properties 4 and 7 of issue 11, as deployed: a sign-out at server1 (through nginx) goes into
// server1's logout outbox in PostgreSQL; one of the two server1 replicas delivers it, through
// nginx, to one of the two server2 replicas; every server2 replica then refuses the user's
// sessions and the handoff tokens minted before, from the shared Redis. The replicas' /metrics
// count what each did, so that "delivered once" is seen, not assumed.
describe('a sign-out at server1 with two replicas of each service, as deployed', () => {
  const topology = useTopology();
  const { target } = topology;
  const [replicaA, replicaB] = target.server2Replicas as [string, string];

  /** Every replica's metrics, server1's and server2's. */
  async function metrics(reader: Browser): Promise<{ server1: MetricSamples[]; server2: MetricSamples[] }> {
    const read = (urls: readonly string[]) =>
      Promise.all(urls.map((url) => readMetrics(reader, target, url)));
    return { server1: await read(target.server1Replicas), server2: await read(target.server2Replicas) };
  }

  it("ends the user's sessions on every server2 replica, and reaches server2 once", async () => {
    const reader = topology.browser();
    const before = await metrics(reader);
    // Two browsers of bob's, each signed in at server1 and handed off to server2; and alice's.
    const bobHere = topology.browser();
    const bobThere = topology.browser();
    const alice = topology.browser();
    expect((await handoff(bobHere, target.server2Url, topology.bob)).page.status).toBe(200);
    expect((await handoff(bobThere, target.server2Url, topology.bob)).page.status).toBe(200);
    expect((await handoff(alice, target.server2Url, topology.alice)).page.status).toBe(200);
    for (const browser of [bobHere, bobThere, alice]) {
      expect(await meAt(browser, target, replicaA)).toBe(200);
      expect(await meAt(browser, target, replicaB)).toBe(200);
    }
    // Minted before the sign-out and used after it, one for each replica.
    const unused = [
      (await handoffToken(bobThere, target, 'minted-before-a')).token,
      (await handoffToken(bobThere, target, 'minted-before-b')).token,
    ];

    // "Sign out everywhere" on server1's dashboard, through nginx.
    const out = await signOut(bobHere, `${target.server1Url}/`, '/logout/everywhere');
    expect(out.status).toBe(200);
    await waitFor(
      'the back-channel logout to reach server2',
      async () => (await meAt(bobThere, target, replicaA)) === 401,
      15_000,
    );

    for (const browser of [bobHere, bobThere]) {
      expect(await meAt(browser, target, replicaA)).toBe(401);
      expect(await meAt(browser, target, replicaB)).toBe(401);
    }
    expect(await meAt(alice, target, replicaA)).toBe(200);
    expect(await meAt(alice, target, replicaB)).toBe(200);
    // Tokens-valid-after, recorded by the one replica the logout token reached, is read by both.
    const refusals = await Promise.all(
      [replicaA, replicaB].map((replica, i) =>
        atReplica(topology.browser(), target.server2Url, replica, {
          path: '/handoff/callback',
          body: { token: unused[i] as string },
        }),
      ),
    );
    expect(refusals.map((page) => [page.status, reasonOf(page)])).toEqual([
      [400, 'token_revoked'],
      [400, 'token_revoked'],
    ]);
    // Signing in again afterwards works, through nginx.
    const again = topology.browser();
    expect((await handoff(again, target.server2Url, topology.bob)).page.status).toBe(200);
    // bob's dashboard asks server2's activity API, server to server through nginx, with a service
    // token each server1 replica mints once and then reuses. nginx alternates the calls over the
    // server2 replicas, so each token comes back to a replica that has verified it: a hit of that
    // replica's verified-token cache, on both replicas, the one the logout never reached included.
    // Every answer reads bob's sessions from Redis: the new one alone. (Tokens-valid-after does
    // not apply to service tokens, whose subject is a calling service: docs/design.md.)
    const panels = [];
    for (let i = 0; i < 4; i += 1) {
      const dashboard = await again.fetch('GET', `${target.server1Url}/`);
      expect(dashboard.status).toBe(200);
      panels.push({
        server1: upstreamOf(dashboard),
        status: /<b data-status>(\d+)<\/b>/.exec(dashboard.body)?.[1],
        activeSessions: /<b data-active-sessions>(\d+)<\/b>/.exec(dashboard.body)?.[1],
        // The decoded claims, HTML-escaped.
        serviceTokenJti: /&quot;jti&quot;: &quot;([^&]+)&quot;/.exec(dashboard.body)?.[1],
      });
    }
    expect(panels.map(({ status, activeSessions }) => [status, activeSessions])).toEqual(
      Array(4).fill(['200', '1']),
    );
    // One token per server1 replica, presented again on each later call.
    const jtis = new Map(panels.map((panel) => [panel.server1, panel.serviceTokenJti]));
    expect(jtis.size).toBe(2);
    expect(new Set(jtis.values()).size).toBe(2);
    expect([...jtis.values()].every((jti) => typeof jti === 'string' && jti.length > 0)).toBe(true);
    for (const panel of panels) expect(panel.serviceTokenJti).toBe(jtis.get(panel.server1));

    // Each outbox row is leased by one server1 replica at a time: the logout token was sent once,
    // accepted by one server2 replica, and no copy came in to be refused as a replay. A retry
    // would come within LOGOUT_RETRY_BASE_MS; the wait below is longer than the local one.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await metrics(reader);
    const delta = (replicas: 'server1' | 'server2', series: string) =>
      total(after[replicas], series) - total(before[replicas], series);
    const perReplica = after.server2.map(
      (samples, i) =>
        total([samples], 'server2_backchannel_logouts_total') -
        total([before.server2[i] as MetricSamples], 'server2_backchannel_logouts_total'),
    );
    console.info(
      `back-channel logout: delivered ${delta('server1', 'server1_logout_deliveries_total{outcome="delivered"}')} time(s) ` +
        `by server1's replicas; received by the server2 replicas ${JSON.stringify(perReplica)}`,
    );
    expect(delta('server1', 'server1_logout_deliveries_total{outcome="delivered"}')).toBe(1);
    expect(delta('server1', 'server1_logout_deliveries_total')).toBe(1);
    expect([...perReplica].sort()).toEqual([0, 1]);
    expect(delta('server2', 'server2_backchannel_logouts_total{scope="user"}')).toBe(1);
    expect(delta('server2', 'server2_token_rejections_total{kind="logout",reason="token_replayed"}')).toBe(0);
  });
});
