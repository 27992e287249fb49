// A child Node.js process driven over IPC: the parent sends { id, cmd, args } and gets back
// { id, result } or { id, error }. Load generators, baseline servers and in-process loops each
// run in their own process through this, so that none of them shares a core's event loop with
// the harness or with each other.
import { fork } from 'node:child_process';

/**
 * Forks `modulePath` (a file URL or path) with `execArgv` (e.g. ['--cpu-prof']) and resolves
 * once it is up. `call(cmd, args)` runs one of its handlers; `stop()` ends it.
 */
export async function forkWorker(modulePath, { execArgv = [], env = {} } = {}) {
  const child = fork(modulePath instanceof URL ? modulePath.pathname : modulePath, [], {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 0;
  let exited = false;
  child.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if ('error' in message) waiter.reject(new Error(`${modulePath}: ${message.error}`));
    else waiter.resolve(message.result);
  });
  child.on('exit', (code, signal) => {
    exited = true;
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`${modulePath} exited (${code ?? signal}) during a call`));
    }
    pending.clear();
  });
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`${modulePath} is not running`));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, args });
    });
  await call('ping');
  return {
    pid: child.pid,
    call,
    async stop() {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.send({ id: -1, cmd: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/**
 * The child's side: answers the parent's calls with `handlers[cmd](args)`. `exit` closes via
 * `onExit` (for a server: close it) and leaves with code 0, so that --cpu-prof is written.
 */
export function serveParent(handlers, onExit = async () => {}) {
  process.on('message', async ({ id, cmd, args }) => {
    if (cmd === 'exit') {
      await onExit();
      process.exit(0);
    }
    try {
      const result = cmd === 'ping' ? 'pong' : await handlers[cmd](args);
      process.send({ id, result });
    } catch (err) {
      process.send({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  // Orphaned by a crashed parent: leave rather than linger.
  process.on('disconnect', () => process.exit(0));
}
