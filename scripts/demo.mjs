// Runs both services for the local demo, with demo users, and prints where to go.
// `npm start` builds first and then runs this; Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demoPassword = process.env.DEMO_PASSWORD ?? 'handoff-demo';
const server1Url = process.env.SERVER1_PUBLIC_URL ?? 'http://localhost:4001';
const server2Url = process.env.SERVER2_PUBLIC_URL ?? 'http://localhost:4002';
// Where the demo keeps its databases (CI points it at a temporary folder).
const dataRoot = process.env.DEMO_DATA_DIR ?? join(root, 'data');

const services = {
  server1: {
    PORT: new URL(server1Url).port || '4001',
    PUBLIC_URL: server1Url,
    DATA_DIR: join(dataRoot, 'server1'),
    SEED_DEMO_USERS: 'true',
    // The handoff page shows the token it posts and waits for Continue (off outside the demo).
    HANDOFF_STEP_THROUGH: process.env.HANDOFF_STEP_THROUGH ?? 'true',
    DEMO_PASSWORD: demoPassword,
    CLIENTS: JSON.stringify([
      {
        id: 'server2',
        redirect_uris: [`${server2Url}/handoff/callback`],
        backchannel_logout_uri: `${server2Url}/backchannel-logout`,
        api_url: server2Url,
      },
    ]),
  },
  server2: {
    PORT: new URL(server2Url).port || '4002',
    PUBLIC_URL: server2Url,
    ISSUER_URL: server1Url,
    DATA_DIR: join(dataRoot, 'server2'),
  },
};

const children = [];
let stopping = false;

function launch(name, env) {
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env: { LOG_LEVEL: 'warn', ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} stopped (${signal ?? `exit ${code}`}); stopping the demo.`);
    stop(code ?? 1);
  });
  children.push(child);
}

/** Resolves once `url` answers 200, so server2 starts with server1's keys already reachable. */
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

function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

launch('server1', services.server1);
await waitFor(`http://127.0.0.1:${services.server1.PORT}/readyz`);
launch('server2', services.server2);
await waitFor(`http://127.0.0.1:${services.server2.PORT}/readyz`);

console.log(`
jwt-handoff demo
  server1 (identity): ${server1Url}
  server2 (relying):  ${server2Url}   <- open this one; it sends you to server1 to sign in
  demo users:         alice / ${demoPassword}    bob / ${demoPassword}
  data:               ${dataRoot}
Press Ctrl-C to stop.
`);
