// @ts-check
// The time of one full handoff over loopback, with both services as real processes (the
// end-to-end setup): median of N runs, for a new browser that must sign in, and for one whose
// server1 session is alive. Usage: node bench/handoff-latency.mjs [runs]
import { Browser, handoff, signOut, startPair } from '@jwt-handoff/testkit';
import { median, percentile } from './lib/stats.mjs';

const runs = Number(process.argv[2] ?? 100);
const pair = await startPair();
const credentials = { username: 'alice', password: pair.demoPassword };

try {
  /** @type {number[]} */
  const withLogin = [];
  /** @type {number[]} */
  const withSession = [];
  const returning = new Browser();
  await handoff(returning, pair.server2.url, credentials); // signs in once, warms up
  for (let i = 0; i < runs; i++) {
    // Interleaved, so both kinds see the same machine state.
    let started = performance.now();
    await handoff(new Browser(), pair.server2.url, credentials);
    withLogin.push(performance.now() - started);
    await signOut(returning, `${pair.server2.url}/`);
    started = performance.now();
    const run = await handoff(returning, pair.server2.url, credentials);
    withSession.push(performance.now() - started);
    if (run.askedForPassword) throw new Error('the server1 session was lost');
  }
  /** @type {(name: string, values: number[]) => void} */
  const show = (name, values) =>
    console.log(
      `${name}: median ${median(values).toFixed(2)} ms, p90 ${percentile(values, 0.9).toFixed(2)} ms (n=${values.length})`,
    );
  show('handoff with sign-in (scrypt included)', withLogin);
  show('handoff with a live server1 session    ', withSession);
  console.log(`ratio sign-in/session: ${(median(withLogin) / median(withSession)).toFixed(2)}`);
} finally {
  await pair.close();
}
