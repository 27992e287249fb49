// Runs the demo: server1, server2 and the billing example (a second relying app), with demo
// users, and prints where to go. `npm start` builds first and then runs this; Ctrl-C stops all.
//
// It refuses to start on a port that is taken, with one line naming it, and it trusts a URL only
// once its own child process has said that it listens there: a service left over from another
// run, answering on the same port, is never mistaken for this run's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demoPassword = process.env.DEMO_PASSWORD ?? 'handoff-demo';
const server1Url = process.env.SERVER1_PUBLIC_URL ?? 'http://localhost:4001';
const server2Url = process.env.SERVER2_PUBLIC_URL ?? 'http://localhost:4002';
const billingUrl = process.env.BILLING_PUBLIC_URL ?? 'http://localhost:4003';
// Where the demo keeps its databases (CI points it at a temporary folder).
const dataRoot = process.env.DEMO_DATA_DIR ?? join(root, 'data');
// Handoff tokens of 30 s rather than the default 60 s: long enough to read the form_post page,
// and short enough that `npm run attack` sees a real token expire within its wait budget.
const handoffTokenTtlSec = '30';
// The children log at info, so that the demo sees each one's "is up" line; it shows only warnings
// and worse, unless LOG_LEVEL asks for more.
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const shownLevel = LEVELS[process.env.LOG_LEVEL ?? 'warn'] ?? LEVELS.warn;

const portOf = (url, fallback) => new URL(url).port || fallback;

const services = [
  {
    name: 'server1',
    main: 'services/server1/dist/main.js',
    readyPath: '/readyz',
    env: {
      PORT: portOf(server1Url, '4001'),
      PUBLIC_URL: server1Url,
      DATA_DIR: join(dataRoot, 'server1'),
      SEED_DEMO_USERS: 'true',
      DEMO_PASSWORD: demoPassword,
      // The handoff page shows the token it posts and waits for Continue (off outside the demo).
      HANDOFF_STEP_THROUGH: process.env.HANDOFF_STEP_THROUGH ?? 'true',
      HANDOFF_TOKEN_TTL: handoffTokenTtlSec,
      CLIENTS: JSON.stringify([
        {
          id: 'server2',
          redirect_uris: [`${server2Url}/handoff/callback`],
          backchannel_logout_uri: `${server2Url}/backchannel-logout`,
          api_url: server2Url,
        },
        {
          id: 'billing',
          name: 'billing (examples/billing)',
          redirect_uris: [`${billingUrl}/handoff/callback`],
          backchannel_logout_uri: `${billingUrl}/backchannel-logout`,
        },
      ]),
    },
  },
  // Before server2, so that server2's /readyz (what CI waits for) means that all three are up.
  {
    name: 'billing',
    main: 'examples/billing/dist/main.js',
    // A plain fastify app with no health routes: the plugin fetched server1's keys before it
    // listened, so its "is up" line is the signal.
    readyPath: undefined,
    env: {
      PORT: portOf(billingUrl, '4003'),
      PUBLIC_URL: billingUrl,
      ISSUER_URL: server1Url,
      DATA_DIR: join(dataRoot, 'billing'),
      // A fresh one per run: it signs only the 10-minute handoff state cookie.
      SESSION_SECRET: randomBytes(32).toString('base64url'),
    },
  },
  {
    name: 'server2',
    main: 'services/server2/dist/main.js',
    readyPath: '/readyz',
    env: {
      PORT: portOf(server2Url, '4002'),
      PUBLIC_URL: server2Url,
      ISSUER_URL: server1Url,
      DATA_DIR: join(dataRoot, 'server2'),
    },
  },
];

const children = [];
let stopping = false;

/** Stops the demo with one line on stderr and a non-zero exit. */
function fail(line) {
  console.error(`npm start: ${line}`);
  stop(1);
}

/** Stops every child and exits once they have all ended (or after 10 s, when one hangs). */
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  const alive = children.filter((child) => child.exitCode === null && child.signalCode === null);
  if (alive.length === 0) process.exit(code);
  let left = alive.length;
  for (const child of alive) {
    child.once('exit', () => {
      left -= 1;
      if (left === 0) process.exit(code);
    });
    child.kill('SIGTERM');
  }
  setTimeout(() => process.exit(code), 10_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** Whether `port` can be listened on at `host` now: binds it for a moment and lets it go. */
function portIsFree(port, host) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port: Number(port), host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** Shows a child's output line: its own text, or a pino line at or above the shown level. */
function show(name, line, stream) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    stream.write(`${line}\n`);
    return;
  }
  if ((entry.level ?? LEVELS.info) >= shownLevel) stream.write(`${name}: ${line}\n`);
}

/**
 * Starts one service and resolves once the child itself reports that it listens (its
 * "<name> is up at" line, written after `listen` resolved). Rejects with one line if it exits
 * first, naming the port when that was the cause.
 */
function launch({ name, main, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, main)], {
      env: { ...process.env, ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let up = false;
    let errors = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!up && line.includes(`${name} is up at`)) {
        up = true;
        resolve();
        return; // the banner says it for all three
      }
      show(name, line, process.stdout);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (!up) errors += `${line}\n`;
      else show(name, line, process.stderr);
    });
    child.on('exit', (code, signal) => {
      if (!up) {
        reject(
          new Error(
            /EADDRINUSE/.test(errors)
              ? `port ${env.PORT} is taken (${name} could not listen on it)`
              : `${name} did not start (${signal ?? `exit ${code}`}): ${errors.trim().split('\n')[0]}`,
          ),
        );
        return;
      }
      if (stopping) return;
      console.error(`${name} stopped (${signal ?? `exit ${code}`}); stopping the demo.`);
      stop(code || 1);
    });
  });
}

/** Resolves once `url` answers 200 (server2 and billing are ready once they hold server1's keys). */
async function waitFor(url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

try {
  for (const { name, env } of services) {
    if (!(await portIsFree(env.PORT, '127.0.0.1')))
      throw new Error(`port ${env.PORT} is taken (needed by ${name})`);
  }
  for (const service of services) {
    await launch(service);
    if (service.readyPath) await waitFor(`http://127.0.0.1:${service.env.PORT}${service.readyPath}`);
  }
} catch (err) {
  fail(err.message);
}

if (!stopping) {
  console.log(`
jwt-handoff demo
  server1 (identity): ${server1Url}
  server2 (relying):  ${server2Url}   <- open this one; it sends you to server1 to sign in
  billing (relying):  ${billingUrl}   a second relying app (examples/billing), signed in the same way
  demo users:         alice / ${demoPassword}    bob / ${demoPassword}
  handoff tokens:     live ${handoffTokenTtlSec} s (HANDOFF_TOKEN_TTL)
  data:               ${dataRoot}
Press Ctrl-C to stop.
`);
}
