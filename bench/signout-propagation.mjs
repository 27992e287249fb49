// @ts-check
// How long a sign-out on server1 takes to end the server2 session, over the back-channel:
// from the POST /logout on server1 (the dashboard's sign-out form) to the first 401 from
// server2's /me (polled every 5 ms).
// Median over N runs with real processes on loopback. Usage: node bench/signout-propagation.mjs [runs]
import { Browser, findForm, handoff, startPair } from '@jwt-handoff/testkit';
import { summarize } from './lib/stats.mjs';

const runs = Number(process.argv[2] ?? 20);
const pair = await startPair();
const credentials = { username: 'alice', password: pair.demoPassword };

try {
  /** @type {number[]} */
  const times = [];
  for (let i = 0; i < runs; i++) {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);
    // The form carries the session's sign-out token; the page is loaded before the clock starts.
    const dashboard = await browser.open(`${pair.server1.url}/`);
    const form = new URLSearchParams(findForm(dashboard.body, '/logout').fields).toString();
    const started = performance.now();
    await browser.fetch('POST', `${pair.server1.url}/logout`, form, { origin: pair.server1.url });
    while ((await browser.fetch('GET', `${pair.server2.url}/me`)).status !== 401) {
      if (performance.now() - started > 5000) throw new Error('the sign-out did not arrive within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    times.push(performance.now() - started);
  }
  const s = summarize(times);
  console.log(
    `sign-out propagation over ${runs} runs: median ${s.median.toFixed(1)} ms, ` +
      `min ${s.min.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`,
  );
} finally {
  await pair.close();
}
