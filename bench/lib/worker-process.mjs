// @ts-check
// A child Node.js process driven over IPC: the parent sends { id, cmd, args } and gets back
// { id, result } or { id, error }. Load generators, baseline servers and in-process loops each
// run in their own process through this, so that none of them shares a core's event loop with
// the harness or with each other.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A forked worker, as the parent holds it. What `call` resolves with crossed a process boundary
 * (serialized over IPC), so it is untyped here: the caller names the type it expects.
 * @typedef {object} Worker
 * @property {number} pid
 * @property {(cmd: string, args?: object) => Promise<any>} call
 * @property {() => Promise<void>} stop
 */

/** @typedef {{ id: number, cmd: string, args: any }} CallMessage */
/** @typedef {{ id: number, result?: unknown, error?: string }} ReplyMessage */

/**
 * Forks `modulePath` (a file URL or path) with `execArgv` (e.g. ['--cpu-prof']) and resolves
 * once it is up. `call(cmd, args)` runs one of its handlers; `stop()` ends it.
 * @param {URL | string} modulePath
 * @param {{ execArgv?: string[], env?: Record<string, string> }} [options]
 * @returns {Promise<Worker>}
 */
export async function forkWorker(modulePath, { execArgv = [], env = {} } = {}) {
  // fileURLToPath, not URL.pathname: the pathname keeps percent-escapes (a space is %20).
  const child = fork(modulePath instanceof URL ? fileURLToPath(modulePath) : modulePath, [], {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  /** @type {Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void }>} */
  const pending = new Map();
  let nextId = 0;
  let exited = false;
  child.on('message', (received) => {
    const message = /** @type {ReplyMessage} */ (received);
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
  /** @type {Worker['call']} */
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`${modulePath} is not running`));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, args });
    });
  await call('ping');
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${modulePath} has no process id`);
  return {
    pid,
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
 * Each handler's `args` is what the parent passed to `call`, typed by the handler itself.
 * @param {Record<string, (args: any) => unknown>} handlers
 * @param {() => Promise<unknown>} [onExit]
 */
export function serveParent(handlers, onExit = async () => {}) {
  if (!process.send) throw new Error('a worker runs under forkWorker, with an IPC channel');
  const send = process.send.bind(process);
  process.on('message', async (received) => {
    const { id, cmd, args } = /** @type {CallMessage} */ (received);
    if (cmd === 'exit') {
      await onExit();
      process.exit(0);
    }
    try {
      const handler = cmd === 'ping' ? () => 'pong' : handlers[cmd];
      if (!handler) throw new Error(`no handler for ${cmd}`);
      send({ id, result: await handler(args) });
    } catch (err) {
      send({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  // Orphaned by a crashed parent: leave rather than linger.
  process.on('disconnect', () => process.exit(0));
}
