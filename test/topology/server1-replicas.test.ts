import { randomBytes } from 'node:crypto';
import { runKeysCommand, waitFor } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { atReplica, handoffToken, kidOf, reasonOf, signIn, upstreamOf, useTopology } from './client.js';

// Failures of one account from one address let through at once before each further attempt must
// wait (server1's LOGIN_DELAY_AFTER_FAILURES, whose default both topologies keep).
const FREE_FAILURES_PER_PAIR = 5;
const BURST = 20;

// Properties 5 and 6 of issue 11, as deployed: two server1 replicas on one PostgreSQL behind nginx.
// test/postgres/replicas.test.ts checks the same with two apps in one process; here they are
// separate processes, reached through the proxy or each directly (SERVER1_REPLICA_URLS).
describe('two server1 replicas on one PostgreSQL, as deployed', () => {
  const topology = useTopology();
  const { target } = topology;

  it('serves a session started at one replica at the other', async () => {
    const browser = topology.browser();
    const signedIn = await signIn(browser, target.server1Url, topology.alice);
    expect(signedIn.body).toContain('Signed in as');

    for (const replica of target.server1Replicas) {
      const dashboard = await atReplica(browser, target.server1Url, replica, { path: '/' });
      expect(dashboard.status).toBe(200);
      expect(dashboard.body).toContain('Username <code>alice</code>');
    }
  });

  it('lets a burst of concurrent wrong passwords over both replicas no more tries than the limit', async () => {
    const browser = topology.browser();
    const form = await browser.open(`${target.server1Url}/login`);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(form.body)?.[1] as string;
    // An account of its own, so that no other test's sign-in is held back by this one.
    const username = `burst-${randomBytes(4).toString('hex')}`;
    const body = new URLSearchParams({ csrf_token: csrf, return_to: '/', username, password: 'wrong' });

    // Asking for JSON, as a scripted guesser would: a wrong password is 401, a refusal 429.
    const answers = await Promise.all(
      Array.from({ length: BURST }, () =>
        browser.fetch('POST', `${target.server1Url}/login`, body.toString(), {
          origin: target.server1Url,
          accept: 'application/json',
        }),
      ),
    );

    const tries = answers.filter((page) => page.status === 401);
    const outcomes = new Map<string, number>();
    for (const page of answers) {
      const key = `${page.status} ${reasonOf(page) ?? ''}`.trim();
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.info(
      `sign-in burst over both server1 replicas: ${tries.length} of ${BURST} wrong passwords were checked ` +
        `(limit ${FREE_FAILURES_PER_PAIR}); answers ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    expect(new Set(answers.map(upstreamOf)).size).toBe(2);
    expect(answers.every((page) => page.status === 401 || page.status === 429)).toBe(true);
    expect(tries.length).toBeGreaterThan(0);
    // Counted per process, each replica would have let the limit through: twice as many.
    expect(tries.length).toBeLessThanOrEqual(FREE_FAILURES_PER_PAIR);
  });

  it('shows both replicas a key rotation made by the keys command against DATABASE_URL', async () => {
    const jwksAt = async (replica: string) => {
      const page = await topology.browser().fetch('GET', `${replica}/.well-known/jwks.json`);
      expect(page.status).toBe(200);
      const kids = (JSON.parse(page.body) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      return { body: page.body, etag: page.headers.get('etag'), kids };
    };
    const browser = topology.browser();
    await signIn(browser, target.server1Url, topology.alice);
    const signingKids = async () =>
      Promise.all(
        target.server1Replicas.map(async (replica) =>
          kidOf((await handoffToken(browser, target, 'kid', replica)).token),
        ),
      );
    const before = await Promise.all(target.server1Replicas.map(jwksAt));
    const [signingBefore] = await signingKids();

    // The command as an operator runs it, on another machine than the replicas: it only needs
    // the database. It reads its rotation timeline from its own environment (the defaults
    // here): the new key is published at once and signs after the publish lead.
    const rotated = await runKeysCommand({ DATABASE_URL: target.databaseUrl }, ['rotate']);
    // A second run within the publish lead is refused (a rotation is already pending): the
    // suite expects a fresh deployment.
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKid = /new key (\S+)/.exec(rotated.stdout)?.[1] as string;
    expect(newKid).toBeDefined();
    // Each replica re-reads the keys every second.
    await waitFor(
      'both replicas to publish the new key',
      async () =>
        (await Promise.all(target.server1Replicas.map(jwksAt))).every((jwks) => jwks.kids.includes(newKid)),
      10_000,
    );

    const after = await Promise.all(target.server1Replicas.map(jwksAt));
    const [a, b] = after as [Awaited<ReturnType<typeof jwksAt>>, Awaited<ReturnType<typeof jwksAt>>];
    expect(b.body).toBe(a.body);
    expect(b.etag).toBe(a.etag);
    expect(a.etag).not.toBe(before[0]?.etag);
    expect(a.kids).toEqual(expect.arrayContaining([newKid, signingBefore]));
    // Through nginx, whichever replica answers: the same document.
    const viaProxy = [];
    for (let i = 0; i < 2; i++)
      viaProxy.push(await browser.fetch('GET', `${target.server1Url}/.well-known/jwks.json`));
    expect(new Set(viaProxy.map(upstreamOf)).size).toBe(2);
    expect(viaProxy.map((page) => page.headers.get('etag'))).toEqual([a.etag, a.etag]);
    // Both go on signing with the same current key until the new one's time comes.
    expect(await signingKids()).toEqual([signingBefore, signingBefore]);
  });
});
