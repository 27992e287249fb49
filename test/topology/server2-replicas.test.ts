import { type Browser, handoff } from '@jwt-handoff/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { atReplica, handoffToken, meAt, reasonOf, signIn, tokenOn, useTopology } from './client.js';

// Properties 1 to 3 of issue 11, on the deployed topology: two server2 replicas on one Redis,
// each addressed directly where a check needs one replica (SERVER2_REPLICA_URLS), with tokens
// minted by server1 through nginx. test/redis/replicas.test.ts checks the same in one process;
// here they are separate processes, behind the proxy, over https with the run's certificate.
describe('two server2 replicas on one Redis, as deployed', () => {
  const topology = useTopology();
  const { target } = topology;
  const [replicaA, replicaB] = target.server2Replicas as [string, string];
  let signedIn: Browser;

  beforeAll(async () => {
    // A full handoff through nginx: alice's browser is then signed in at server1 as well.
    signedIn = topology.browser();
    const run = await handoff(signedIn, target.server2Url, topology.alice);
    expect(run.page.status).toBe(200);
  });

  /** Posts `token` to a replica's callback, as the form_post page would; no cookies needed. */
  const postToken = (replica: string, token: string) =>
    atReplica(topology.browser(), target.server2Url, replica, {
      path: '/handoff/callback',
      body: { token },
    });

  it('refuses at replica B a handoff token consumed at replica A (token_replayed)', async () => {
    const { token } = await handoffToken(signedIn, target, 'replay-across-replicas');

    const atA = await postToken(replicaA, token);
    const atB = await postToken(replicaB, token);

    expect(atA.status).toBe(303);
    expect(atB.status).toBe(400);
    expect(reasonOf(atB)).toBe('token_replayed');
  });

  it('accepts a token posted to both replicas at the same moment exactly once, 50 races out of 50', async () => {
    const RACES = 50;
    let acceptedOnce = 0;
    const winners = { a: 0, b: 0 };
    const refusals = new Set<string | undefined>();
    for (let race = 0; race < RACES; race += 1) {
      const { token } = await handoffToken(signedIn, target, `race-${race}`);
      const [atA, atB] = await Promise.all([postToken(replicaA, token), postToken(replicaB, token)]);
      const accepted = [atA, atB].filter((page) => page.status === 303);
      if (accepted.length === 1) acceptedOnce += 1;
      if (atA.status === 303) winners.a += 1;
      if (atB.status === 303) winners.b += 1;
      for (const page of [atA, atB])
        if (page.status !== 303) refusals.add(`${page.status} ${reasonOf(page)}`);
    }
    console.info(
      `double-spend across the server2 replicas: accepted exactly once in ${acceptedOnce} of ${RACES} ` +
        `races (replica A won ${winners.a}, replica B ${winners.b})`,
    );
    expect(acceptedOnce).toBe(RACES);
    expect([...refusals]).toEqual(['400 token_replayed']);
  });

  it('completes at replica B a txn parked at replica A, and only once', async () => {
    const browser = topology.browser();
    await signIn(browser, target.server1Url, topology.alice);
    // /handoff/start through nginx sets the state cookie and sends the browser to server1, which
    // answers the form_post page with the token.
    const formPost = await browser.open(`${target.server2Url}/handoff/start?return_to=%2F`);
    const token = tokenOn(formPost);

    const parked = await atReplica(browser, target.server2Url, replicaA, {
      path: '/handoff/callback',
      body: { token },
    });
    expect(parked.status).toBe(303);
    const completePath = parked.headers.get('location') as string;
    expect(completePath).toMatch(/^\/handoff\/complete\?txn=/);
    const completed = await atReplica(browser, target.server2Url, replicaB, { path: completePath });
    const again = await atReplica(browser, target.server2Url, replicaA, { path: completePath });

    expect(completed.status).toBe(303);
    expect(completed.headers.get('location')).toBe('/');
    expect(await meAt(browser, target, replicaA)).toBe(200);
    expect(again.status).toBe(400);
    expect(reasonOf(again)).toBe('txn_unknown');
  });

  it('serves an s2_session started at replica A at replica B, and signing out at B ends it at A', async () => {
    const browser = topology.browser();
    await signIn(browser, target.server1Url, topology.alice);
    const formPost = await browser.open(`${target.server2Url}/handoff/start?return_to=%2F`);
    const token = tokenOn(formPost);
    const parked = await atReplica(browser, target.server2Url, replicaA, {
      path: '/handoff/callback',
      body: { token },
    });
    const started = await atReplica(browser, target.server2Url, replicaA, {
      path: parked.headers.get('location') as string,
    });
    expect(started.status).toBe(303);
    expect(await meAt(browser, target, replicaA)).toBe(200);
    expect(await meAt(browser, target, replicaB)).toBe(200);

    // "Sign out of server2" at B: its home page's form, with the CSRF token it carries.
    const home = await atReplica(browser, target.server2Url, replicaB, { path: '/' });
    const csrf = /<form[^>]*action="\/logout"[^>]*>[\s\S]*?name="csrf_token" value="([^"]+)"/.exec(
      home.body,
    )?.[1];
    expect(csrf).toBeDefined();
    const out = await atReplica(browser, target.server2Url, replicaB, {
      path: '/logout',
      body: { csrf_token: csrf as string },
    });

    expect(out.status).toBe(303);
    expect(await meAt(browser, target, replicaA)).toBe(401);
    expect(await meAt(browser, target, replicaB)).toBe(401);
  });
});
