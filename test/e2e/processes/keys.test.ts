import {
  Browser,
  generateTestKey,
  handoff,
  runKeysCommand,
  type ServicePair,
  signOut,
  startPair,
  within,
} from '@jwt-handoff/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { issuerKeys, serviceToken } from './issuer-keys.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jwksKids = async (server1Url: string) =>
  (
    (await (await fetch(`${server1Url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }
  ).keys.map((key) => key.kid);
const metric = async (url: string, name: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
};
const activity = (server2Url: string, token: string) =>
  fetch(`${server2Url}/api/users/anyone/activity`, { headers: { authorization: `Bearer ${token}` } });

// Key rotation, JWKS outages and unknown-kid floods, with real processes.
describe('keys: rotation, outage and flood', () => {
  let pair: ServicePair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('rotates twice under load without a single failed verification, then refuses the dropped key', async () => {
    // A short timeline: publish lead 1 s max-age + 1 s reload + 0.5 s margin; retention 10.5 s.
    pair = await startPair({
      server1Env: {
        JWKS_MAX_AGE_SEC: '1',
        KEY_TIMING_MARGIN_MS: '500',
        HANDOFF_TOKEN_TTL: '5',
        SERVICE_TOKEN_TTL: '5',
        LOGOUT_TOKEN_TTL: '5',
      },
    });
    const { server1, server2 } = pair;
    const credentials = { username: 'alice', password: pair.demoPassword };
    const [firstKey] = await issuerKeys(server1.env.DATA_DIR as string);
    const kidsSeen = new Set<string>();
    const failures: string[] = [];
    let verifications = 0;
    let running = true;

    // Handoffs (handoff tokens) and dashboards (service tokens to server2's API), in parallel.
    const handoffLoop = async () => {
      const browser = new Browser();
      await handoff(browser, server2.url, credentials);
      while (running) {
        try {
          await signOut(browser, `${server2.url}/`);
          const run = await handoff(browser, server2.url, credentials);
          kidsSeen.add(
            JSON.parse(Buffer.from(run.token.split('.')[0] as string, 'base64url').toString()).kid,
          );
          if (run.page.status !== 200) failures.push(`handoff ended ${run.page.status} at ${run.page.url}`);
        } catch (err) {
          failures.push(`handoff: ${(err as Error).message.slice(0, 300)}`);
        }
        verifications++;
      }
    };
    const dashboardLoop = async () => {
      const browser = new Browser();
      await handoff(browser, server2.url, credentials);
      while (running) {
        const page = await browser.open(`${server1.url}/`);
        if (page.body.includes('data-unavailable') || page.status !== 200)
          failures.push('activity call failed');
        verifications++;
      }
    };
    const load = [handoffLoop(), handoffLoop(), handoffLoop(), dashboardLoop()];

    for (let rotation = 0; rotation < 2; rotation++) {
      const { stdout } = await runKeysCommand(server1.env, ['rotate']);
      const newKid = /new key (\S+)/.exec(stdout)?.[1];
      expect(newKid).toBeDefined();
      // The load keeps running until tokens signed by the new key have gone through.
      await within(15_000, async () => kidsSeen.has(newKid as string));
    }
    // The first key leaves the JWKS after its retention; keep the load on until then.
    await within(20_000, async () => !(await jwksKids(server1.url)).includes(firstKey?.kid as string));
    await sleep(1500);
    running = false;
    await Promise.all(load);

    expect(failures).toEqual([]);
    expect(verifications).toBeGreaterThan(20);
    expect(kidsSeen.size).toBe(3);

    // A token signed by the dropped key is now refused: its kid is unknown.
    const late = await serviceToken(firstKey as NonNullable<typeof firstKey>, server1.url, 5);
    const refused = await activity(server2.url, late);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { reason: string }).reason).toBe('unknown_kid');
  }, 90_000);

  it('keeps verifying during a JWKS outage for the stale window, then fails closed, then recovers', async () => {
    pair = await startPair({
      server1Env: { JWKS_MAX_AGE_SEC: '1' },
      server2Env: { JWKS_CACHE_MAX_AGE_MS: '1000', JWKS_MAX_STALE_MS: '3000', JWKS_COOLDOWN_MS: '500' },
    });
    const { server1, server2 } = pair;
    const [signer] = await issuerKeys(server1.env.DATA_DIR as string);
    const token = await serviceToken(signer as NonNullable<typeof signer>, server1.url);
    expect((await activity(server2.url, token)).status).toBe(200);

    await server1.stop();
    const outageStarted = Date.now();
    // Within the stale window the last good keys keep serving.
    await sleep(1500);
    expect((await activity(server2.url, token)).status).toBe(200);
    // After it, verification fails closed with 503 jwks_unavailable.
    const staleWindow = await within(10_000, async () => (await activity(server2.url, token)).status === 503);
    const closed = await activity(server2.url, token);
    expect(((await closed.json()) as { reason: string }).reason).toBe('jwks_unavailable');
    expect((await fetch(`${server2.url}/readyz`)).status).toBe(503);
    console.log(`stale window observed: served for ${1500 + staleWindow} ms after server1 stopped`);
    expect(Date.now() - outageStarted).toBeGreaterThanOrEqual(3000);

    await server1.start();
    await within(15_000, async () => (await activity(server2.url, token)).status === 200);
    expect((await fetch(`${server2.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it('fetches the JWKS at most once while 1,000 tokens with random kids arrive, and valid tokens all pass', async () => {
    pair = await startPair();
    const { server1, server2 } = pair;
    const [signer] = await issuerKeys(server1.env.DATA_DIR as string);
    const valid = await serviceToken(signer as NonNullable<typeof signer>, server1.url);
    expect((await activity(server2.url, valid)).status).toBe(200);
    const fetchesBefore = await metric(server1.url, 'server1_jwks_requests_total');

    const attacker = await generateTestKey();
    const floodToken = () =>
      serviceToken({ ...attacker, kid: `random-${Math.random().toString(36).slice(2)}` }, server1.url);
    const floodTokens = await Promise.all(Array.from({ length: 1000 }, floodToken));

    const floodStatuses: number[] = [];
    const validStatuses: number[] = [];
    const flood = async (tokens: string[]) => {
      for (const token of tokens) floodStatuses.push((await activity(server2.url, token)).status);
    };
    const steady = async () => {
      for (let i = 0; i < 50; i++) validStatuses.push((await activity(server2.url, valid)).status);
    };
    const lanes = Array.from({ length: 50 }, (_, lane) =>
      flood(floodTokens.slice(lane * 20, lane * 20 + 20)),
    );
    await Promise.all([...lanes, steady(), steady()]);

    expect(floodStatuses).toHaveLength(1000);
    expect(new Set(floodStatuses)).toEqual(new Set([401]));
    expect(validStatuses.every((status) => status === 200)).toBe(true);
    const fetches = (await metric(server1.url, 'server1_jwks_requests_total')) - fetchesBefore;
    console.log(`JWKS fetches seen by server1 during the flood: ${fetches}`);
    expect(fetches).toBeLessThanOrEqual(1);
  }, 60_000);
});
