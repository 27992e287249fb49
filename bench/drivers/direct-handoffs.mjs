// @ts-check
// Scenario 5's load: whole handoffs against server2 alone, with the token minted here by a key
// server2 trusts (the bench issuer's), so that 200k handoffs fit in a run. Per handoff: GET
// /handoff/start (the s2_handoff cookie and the state), mint a handoff token for that state,
// POST it to /handoff/callback as server1's page would, GET /handoff/complete with the cookie.
// A pool of users, each with its browser's s2_session cookie, signs in again and again.
import { Agent, request } from 'node:http';
import { createMinter } from '../lib/token-minter.mjs';
import { serveParent } from '../lib/worker-process.mjs';

/** @import { IncomingMessage } from 'node:http' */
/** @import { Signer } from '../lib/issuer.mjs' */

/**
 * What one `run` call reports.
 * @typedef {object} DirectRun
 * @property {number} done handoffs completed
 * @property {number} seconds how long they took
 * @property {number} rate handoffs per second
 */

/** @type {Awaited<ReturnType<typeof open>> | undefined} */
let setting;

/**
 * @param {string} method
 * @param {string} url
 * @param {Record<string, string | undefined>} [headers]
 * @param {string} [body]
 * @returns {Promise<IncomingMessage>}
 */
function send(method, url, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: setting?.agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** @type {(res: IncomingMessage, name: string) => string | undefined} */
const cookieOf = (res, name) =>
  (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith(`${name}=`));

/**
 * @param {IncomingMessage} res
 * @param {number} status the status expected
 * @param {string} step names the step in the error
 */
function expect(res, status, step) {
  if (res.statusCode !== status) throw new Error(`${step}: ${res.statusCode} ${JSON.stringify(res.headers)}`);
  return res;
}

/**
 * `users` browsers, none signed in yet, over `connections` keep-alive sockets.
 * @param {{ server2Url: string, signer: Signer, connections: number, users: number }} args
 */
async function setup(args) {
  setting = open(args);
  return 'ready';
}

/** @param {{ server2Url: string, signer: Signer, connections: number, users: number }} args */
function open({ server2Url, signer, connections, users }) {
  return {
    base: server2Url,
    issuer: signer.issuer,
    minter: createMinter(signer),
    agent: new Agent({ keepAlive: true, maxSockets: connections }),
    /** @type {(string | undefined)[]} each user's s2_session cookie, once it has one */
    sessions: new Array(users).fill(undefined),
    next: 0,
  };
}

/** @param {number} user */
async function oneHandoff(user) {
  if (!setting) throw new Error('setup first');
  const { base, issuer, minter, sessions } = setting;
  const session = sessions[user];
  const start = expect(await send('GET', `${base}/handoff/start?return_to=%2F`), 303, 'start');
  const state = new URL(start.headers.location ?? '').searchParams.get('state');
  if (!state) throw new Error(`start: no state in ${start.headers.location}`);
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

/**
 * `count` more handoffs, `concurrency` at a time; resolves with their rate.
 * @param {{ count: number, concurrency: number }} args
 * @returns {Promise<DirectRun>}
 */
async function run({ count, concurrency }) {
  const current = setting;
  if (!current) throw new Error('setup first');
  let left = count;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        const user = current.next++ % current.sessions.length;
        await oneHandoff(user);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { done: count, seconds, rate: count / seconds };
}

serveParent({ setup, run }, async () => setting?.agent.destroy());
