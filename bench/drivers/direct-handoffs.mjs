// Scenario 5's load: whole handoffs against server2 alone, with the token minted here by a key
// server2 trusts (the bench issuer's), so that 200k handoffs fit in a run. Per handoff: GET
// /handoff/start (the s2_handoff cookie and the state), mint a handoff token for that state,
// POST it to /handoff/callback as server1's page would, GET /handoff/complete with the cookie.
// A pool of users, each with its browser's s2_session cookie, signs in again and again.
import { Agent, request } from 'node:http';
import { createMinter } from '../lib/token-minter.mjs';
import { serveParent } from '../lib/worker-process.mjs';

let setting;

function send(method, url, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: setting.agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cookieOf = (res, name) =>
  (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith(`${name}=`));

function expect(res, status, step) {
  if (res.statusCode !== status) throw new Error(`${step}: ${res.statusCode} ${JSON.stringify(res.headers)}`);
  return res;
}

/** { server2Url, signer, connections, users } */
async function setup({ server2Url, signer, connections, users }) {
  setting = {
    base: server2Url,
    issuer: signer.issuer,
    minter: createMinter(signer),
    agent: new Agent({ keepAlive: true, maxSockets: connections }),
    sessions: new Array(users).fill(undefined),
    next: 0,
  };
  return 'ready';
}

async function oneHandoff(user) {
  const { base, issuer, minter, sessions } = setting;
  const session = sessions[user];
  const start = expect(await send('GET', `${base}/handoff/start?return_to=%2F`), 303, 'start');
  const state = new URL(start.headers.location).searchParams.get('state');
  const handoffCookie = cookieOf(start, 's2_handoff');
  const token = minter.handoff(`user-${user}`, state);
  const callback = expect(
    await send(
      'POST',
      `${base}/handoff/callback`,
      { 'content-type': 'application/x-www-form-urlencoded', origin: issuer },
      `token=${token}`,
    ),
    303,
    'callback',
  );
  const cookie = session ? `${handoffCookie}; ${session}` : handoffCookie;
  const complete = expect(
    await send('GET', `${base}${callback.headers.location}`, { cookie }),
    303,
    'complete',
  );
  sessions[user] = cookieOf(complete, 's2_session');
}

/** { count, concurrency }: `count` more handoffs; resolves with their rate. */
async function run({ count, concurrency }) {
  let left = count;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        const user = setting.next++ % setting.sessions.length;
        await oneHandoff(user);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { done: count, seconds, rate: count / seconds };
}

serveParent({ setup, run }, async () => setting?.agent.destroy());
