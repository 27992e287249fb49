// @ts-check
// Scenario 3's load: `users` script-less browsers (the testkit's Browser), each already signed
// in to server1, doing full handoffs back to back: GET server2 /handoff/start, GET server1
// /handoff/authorize (answered from the live session with the form_post page), POST the token to
// server2 /handoff/callback, GET /handoff/complete. Each handoff's latency is recorded.
import { Browser, findForm, handoff } from '@jwt-handoff/testkit';
import { percentile } from '../lib/stats.mjs';
import { serveParent } from '../lib/worker-process.mjs';

/** @import { Page } from '@jwt-handoff/testkit' */

/**
 * What one `round` call reports.
 * @typedef {object} BrowserRound
 * @property {number} rate handoffs per second
 * @property {number} done handoffs completed
 * @property {number} p50 one handoff's latency, ms
 * @property {number} p99 one handoff's latency, ms
 */

/** @type {{ server1Url: string, server2Url: string } | undefined} */
let setting;
/** @type {Browser[]} */
const browsers = [];

/**
 * Signs `users` browsers in to server1 once (as alice, with `password`).
 * @param {{ server1Url: string, server2Url: string, password: string, users: number }} args
 */
async function setup({ server1Url, server2Url, password, users }) {
  setting = { server1Url, server2Url };
  while (browsers.length < users) {
    const browser = new Browser();
    const run = await handoff(browser, server2Url, { username: 'alice', password }, '/me');
    if (run.page.status !== 200) throw new Error(`first handoff ended on ${run.page.status} ${run.page.url}`);
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
async function oneHandoff(browser) {
  if (!setting) throw new Error('setup first');
  const { server1Url, server2Url } = setting;
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
 * Handoffs per second over `ms` with `users` browsers at once, and handoff latency.
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
        await oneHandoff(browser);
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
