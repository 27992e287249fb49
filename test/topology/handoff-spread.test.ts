import type { Page } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { meAt, tokenOn, upstreamOf, useTopology } from './client.js';

const RUNS = 4;

// The browser handoff through nginx, one request at a time, reading which replica answered each
// (X-Upstream-Addr): nginx's round-robin, shared by its workers (`zone`), sends consecutive
// requests for a host to alternate replicas, so the requests of one handoff land on different
// replicas and each must find what the one before stored (server1's session in PostgreSQL,
// server2's txn and state in Redis). The files of this suite run one at a time, so nothing else
// takes a turn in between. Each run makes three requests to each service through nginx, so the
// next run starts on the other replicas.
describe('a browser handoff whose requests land on different replicas', () => {
  const topology = useTopology();
  const { target } = topology;

  it('completes whichever replica answers each of its requests', async () => {
    const placements: Array<Record<string, string>> = [];
    for (let run = 0; run < RUNS; run += 1) {
      const browser = topology.browser();
      // Signing in, without following the redirect: the session starts where the POST lands.
      const form = await browser.open(`${target.server1Url}/login`);
      const csrf = /name="csrf_token" value="([^"]+)"/.exec(form.body)?.[1] as string;
      const signedIn = await browser.fetch(
        'POST',
        `${target.server1Url}/login`,
        new URLSearchParams({ csrf_token: csrf, return_to: '/', ...topology.alice }).toString(),
        { origin: target.server1Url },
      );
      expect(signedIn.status).toBe(303);
      const expectRedirect = (page: Page, to: RegExp) => {
        expect(page.status).toBe(303);
        const location = new URL(page.headers.get('location') as string, page.url).href;
        expect(location).toMatch(to);
        return location;
      };

      const start = await browser.fetch('GET', `${target.server2Url}/handoff/start?return_to=%2F`);
      const authorizeUrl = expectRedirect(start, /\/handoff\/authorize\?/);
      const authorize = await browser.fetch('GET', authorizeUrl);
      expect(authorize.status).toBe(200);
      const token = tokenOn(authorize);
      const callback = await browser.fetch(
        'POST',
        `${target.server2Url}/handoff/callback`,
        new URLSearchParams({ token }).toString(),
        { origin: target.server1Url },
      );
      const completeUrl = expectRedirect(callback, /\/handoff\/complete\?txn=/);
      const complete = await browser.fetch('GET', completeUrl);
      expectRedirect(complete, new RegExp(`^${target.server2Url}/$`));
      // Asked of each replica directly, so that nginx's turns stay the handoff's own.
      for (const replica of target.server2Replicas) expect(await meAt(browser, target, replica)).toBe(200);

      placements.push({
        signIn: upstreamOf(signedIn),
        authorize: upstreamOf(authorize),
        callback: upstreamOf(callback),
        complete: upstreamOf(complete),
      });
    }
    console.info('which replica answered each request of a handoff:');
    console.table(placements);

    // Every run completed above. These say how they were spread: the session started at one
    // server1 replica and the token was minted at the other, the txn was parked at one server2
    // replica and completed at the other; and over the runs each request met both replicas. One
    // run may be excused: the services' own calls through nginx (server2 refreshing the JWKS,
    // server1 delivering a back-channel logout) take a turn of the round-robin when they come.
    const split = placements.filter(
      (placement) => placement.authorize !== placement.signIn && placement.complete !== placement.callback,
    );
    expect(split.length).toBeGreaterThanOrEqual(RUNS - 1);
    const seen = (step: string) => new Set(placements.map((placement) => placement[step])).size;
    expect([seen('signIn'), seen('authorize'), seen('callback'), seen('complete')]).toEqual([2, 2, 2, 2]);
  });
});
