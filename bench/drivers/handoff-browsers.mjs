// @ts-check
// Scenario 3's load: `users` script-less browsers (the testkit's Browser), each already signed
// in at its identity provider, signing in to the relying app again and again, back to back.
// Each sign-in's latency is recorded. Two flows:
// - `handoff`: GET server2 /handoff/start (with several server2 replicas and no balancer in front,
//   browser i always uses replica i mod n, so that the browsers spread evenly over them), GET server1 /handoff/authorize (answered from the live
//   session with the form_post page), POST the token to server2 /handoff/callback, GET
//   /handoff/complete (which must set s2_session);
// - `oidc`: the OpenID Connect peer (bench/servers/oidc-*.mjs): GET the relying app's /login,
//   GET the provider's /auth (answered from its live session and grant with a redirect carrying
//   the code), GET the relying app's /callback (which redeems the code at the token endpoint over
//   the back-channel and must set a new session cookie).
import { Browser, findForm, handoff } from '@jwt-handoff/testkit';
import { percentile } from '../lib/stats.mjs';
import { serveParent } from '../lib/worker-process.mjs';

/** @import { Page } from '@jwt-handoff/testkit' */

/**
 * What one `round` call reports.
 * @typedef {object} BrowserRound
 * @property {number} rate sign-ins per second
 * @property {number} done sign-ins completed
 * @property {number} p50 one sign-in's latency, ms
 * @property {number} p99 one sign-in's latency, ms
 */

/**
 * @typedef {{ flow: 'handoff', server1Url: string }
 *   | { flow: 'oidc', relyingUrl: string, providerUrl: string }} Setting
 */

/** @type {Setting | undefined} */
let setting;
/** @type {Browser[]} */
const browsers = [];
/** @type {Map<Browser, string>} the server2 (replica) each browser signs in to; handoff flow only */
const server2UrlOf = new Map();

/**
 * Signs `users` browsers in once. `handoff`: to server1 (as alice, with `password`), through a
 * first handoff; `server2Urls`, when given, lists server2 replicas to spread the browsers over
 * (instead of `server2Url` alone). `oidc`: at the provider, through a first sign-in whose one
 * interaction logs in and grants at once.
 * @param {({ flow: 'handoff', server1Url: string, server2Url: string, server2Urls?: string[], password: string }
 *   | { flow: 'oidc', relyingUrl: string, providerUrl: string }) & { users: number }} args
 */
async function setup(args) {
  setting =
    args.flow === 'handoff'
      ? { flow: 'handoff', server1Url: args.server1Url }
      : { flow: 'oidc', relyingUrl: args.relyingUrl, providerUrl: args.providerUrl };
  const replicas = args.flow === 'handoff' ? (args.server2Urls ?? [args.server2Url]) : [];
  while (browsers.length < args.users) {
    const browser = new Browser();
    const server2Url = replicas[browsers.length % replicas.length] ?? '';
    const page =
      args.flow === 'handoff'
        ? (await handoff(browser, server2Url, { username: 'alice', password: args.password }, '/me')).page
        : await browser.open(`${args.relyingUrl}/login`);
    server2UrlOf.set(browser, server2Url);
    if (page.status !== 200) throw new Error(`first sign-in ended on ${page.status} ${page.url}`);
    browsers.push(browser);
  }
  return browsers.length;
}

/**
 * @param {Page} page
 * @param {number} status the status expected
 * @param {string} step names the step in the error
 */
function expectStatus(page, status, step) {
  if (page.status !== status)
    throw new Error(`${step}: ${page.status} at ${page.url}\n${page.body.slice(0, 500)}`);
  return page;
}

/** @param {Browser} browser */
async function oneSignIn(browser) {
  if (!setting) throw new Error('setup first');
  if (setting.flow === 'oidc') return oneOidcSignIn(browser, setting);
  const server2Url = server2UrlOf.get(browser);
  if (!server2Url) throw new Error('a browser without its server2');
  await oneHandoff(browser, { server1Url: setting.server1Url, server2Url });
}

/**
 * @param {Browser} browser
 * @param {{ server1Url: string, server2Url: string }} urls
 */
async function oneHandoff(browser, { server1Url, server2Url }) {
  const start = expectStatus(
    await browser.fetch('GET', `${server2Url}/handoff/start?return_to=%2F`),
    303,
    'start',
  );
  const authorizeUrl = start.headers.get('location');
  if (!authorizeUrl?.startsWith(`${server1Url}/handoff/authorize?`))
    throw new Error(`start sent to ${authorizeUrl}`);
  const page = expectStatus(await browser.fetch('GET', authorizeUrl), 200, 'authorize (live session)');
  const form = findForm(page.body, '/handoff/callback');
  const callback = expectStatus(
    await browser.fetch('POST', form.action, new URLSearchParams(form.fields).toString(), {
      origin: new URL(server1Url).origin,
    }),
    303,
    'callback',
  );
  const completeUrl = new URL(callback.headers.get('location') ?? '', server2Url).href;
  const complete = expectStatus(await browser.fetch('GET', completeUrl), 303, 'complete');
  if (!complete.headers.getSetCookie().some((cookie) => cookie.startsWith('s2_session='))) {
    throw new Error('complete set no s2_session');
  }
}

/**
 * @param {Browser} browser
 * @param {{ relyingUrl: string, providerUrl: string }} urls
 */
async function oneOidcSignIn(browser, { relyingUrl, providerUrl }) {
  const login = expectStatus(await browser.fetch('GET', `${relyingUrl}/login`), 303, 'login');
  const authUrl = login.headers.get('location');
  if (!authUrl?.startsWith(`${providerUrl}/auth?`)) throw new Error(`login sent to ${authUrl}`);
  const auth = await browser.fetch('GET', authUrl);
  const callbackUrl = auth.headers.get('location');
  const interaction = new URL(callbackUrl ?? '', authUrl);
  if (interaction.pathname.startsWith('/interaction/')) {
    // oidc-provider.mjs puts the prompt and the checks that failed in the interaction URL.
    throw new Error(
      `auth (live session and grant) asked for an interaction: prompt ${interaction.searchParams.get('prompt')}, ` +
        `reasons ${interaction.searchParams.get('reasons')} (${interaction.href})`,
    );
  }
  if (auth.status < 300 || auth.status > 303 || !callbackUrl?.startsWith(`${relyingUrl}/callback?`)) {
    throw new Error(
      `auth (live session and grant): ${auth.status} to ${callbackUrl}\n${auth.body.slice(0, 500)}`,
    );
  }
  const callback = expectStatus(await browser.fetch('GET', callbackUrl), 303, 'callback');
  if (!callback.headers.getSetCookie().some((cookie) => cookie.startsWith('rp_session='))) {
    throw new Error('callback set no new rp_session');
  }
}

/**
 * Sign-ins per second over `ms` with `users` browsers at once, and their latency.
 * @param {{ users: number, ms: number }} args
 * @returns {Promise<BrowserRound>}
 */
async function round({ users, ms }) {
  /** @type {number[]} */
  const latencies = [];
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    browsers.slice(0, users).map(async (browser) => {
      while (performance.now() < end) {
        const began = performance.now();
        await oneSignIn(browser);
        latencies.push(performance.now() - began);
      }
    }),
  );
  const elapsed = performance.now() - started;
  return {
    rate: (latencies.length * 1000) / elapsed,
    done: latencies.length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

serveParent({ setup, round });
