import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';

// The readiness probe of a service listening over TLS only waits for it to answer: it accepts
// any certificate, because the tests check the service's certificate themselves, by name.
const READINESS_PROBE_AGENT = new Agent({ connect: { rejectUnauthorized: false } });

/**
 * The path of `file` beside the compiled entry of the workspace package `name` (its dist folder).
 * Resolved with require's resolver, not import.meta.resolve, which vite's module runner lacks: a
 * vitest global setup (test/topology) starts services too.
 */
function distFile(name: '@jwt-handoff/server1' | '@jwt-handoff/server2', file: string): string {
  return join(dirname(createRequire(import.meta.url).resolve(name)), file);
}

/** A service running as a real process on a loopback port. */
export interface ServiceProcess {
  readonly name: 'server1' | 'server2';
  readonly url: string;
  readonly env: Readonly<Record<string, string>>;
  /** Starts it again after {@link stop}, with the same port, environment and data. */
  start(): Promise<void>;
  /** Sends SIGTERM and waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Everything the process printed so far. */
  output(): string;
  /** The running process's id (for reading its memory), or undefined while stopped. */
  pid(): number | undefined;
}

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A new empty temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/**
 * Starts the compiled service `name` (its dist/main.js) with `env`, and resolves once
 * `readyPath` answers 200. `env.PORT` and `env.PUBLIC_URL` must be set by the caller.
 */
export async function startService(
  name: 'server1' | 'server2',
  env: Record<string, string>,
  options: {
    readyPath?: string;
    timeoutMs?: number;
    execArgv?: readonly string[];
    /**
     * A file that takes the service's standard output (its logs) instead of {@link
     * ServiceProcess.output}: for a benchmark, which logs as shipped and must not hold every line.
     */
    stdoutFile?: string;
  } = {},
): Promise<ServiceProcess> {
  const main = distFile(`@jwt-handoff/${name}`, 'main.js');
  const url = env.PUBLIC_URL as string;
  const scheme = env.TLS_CERT_FILE ? 'https' : 'http';
  const readyUrl = `${scheme}://127.0.0.1:${env.PORT}${options.readyPath ?? '/readyz'}`;
  let child: ChildProcess | undefined;
  let output = '';

  const handle: ServiceProcess = {
    name,
    url,
    env,
    async start() {
      // execArgv: Node flags for the service (e.g. --cpu-prof for the benchmarks).
      const stdoutFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'a');
      const started = spawn(process.execPath, [...(options.execArgv ?? []), main], {
        env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'],
      });
      // The child holds its own copy of the descriptor.
      if (stdoutFd !== undefined) closeSync(stdoutFd);
      child = started;
      started.stdout?.on('data', (chunk) => {
        output += chunk;
      });
      started.stderr?.on('data', (chunk) => {
        output += chunk;
      });
      await waitUntilReady(readyUrl, started, options.timeoutMs ?? 15_000, () => output);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return running?.exitCode ?? null;
      const exited = new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
      running.kill('SIGTERM');
      return exited;
    },
    output: () => output,
    pid: () => (child?.exitCode === null ? child.pid : undefined),
  };
  await handle.start();
  return handle;
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${url}: the process exited (${child.exitCode}):\n${output()}`);
    try {
      const response = url.startsWith('https:')
        ? await undiciFetch(url, { dispatcher: READINESS_PROBE_AGENT })
        : await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${url} was not ready within ${timeoutMs} ms:\n${output()}`);
}

/** Both services, wired to each other on loopback, each with its own temporary data dir. */
export interface ServicePair {
  readonly server1: ServiceProcess;
  readonly server2: ServiceProcess;
  readonly demoPassword: string;
  /** Stops both and deletes their data directories. */
  close(): Promise<void>;
}

/** Options of {@link startPair}: extra environment for each service. */
export interface PairOptions {
  server1Env?: Record<string, string>;
  server2Env?: Record<string, string>;
  /** Node flags for each service (e.g. --cpu-prof for the benchmarks). */
  server1ExecArgv?: readonly string[];
  server2ExecArgv?: readonly string[];
  /** Where each service's standard output (its logs) goes: a file in its data directory. */
  logsToFile?: boolean;
  /** Host names for the public URLs (default localhost); e.g. server1.test for a browser. */
  server1Host?: string;
  server2Host?: string;
  /** More clients registered at server1 (CLIENTS entries), e.g. a second relying app. */
  moreClients?: ReadonlyArray<Record<string, unknown>>;
  /**
   * Configure server2 with its issuer alone (ISSUER_DISCOVERY=true, no JWKS_URL): it finds
   * server1's keys and sign-in endpoint in the discovery document.
   */
  server2Discovery?: boolean;
  /**
   * Serve both over https, each with its certificate (for its host name and 127.0.0.1) and
   * trusting `caFile` for its calls to the other (TLS_CA_FILE); default plain http.
   */
  https?: { server1: PairTlsFiles; server2: PairTlsFiles };
  /**
   * The URLs browsers use when something stands in front of the services (a proxy): their
   * PUBLIC_URL, the registered callback and server2's ISSUER_URL. Default each service's own
   * address. Calls between the services still go straight to the loopback ports.
   */
  publicUrls?: { server1: string; server2: string };
}

/** One service's TLS files in {@link PairOptions.https}. */
export interface PairTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA it trusts for its outbound calls besides the default roots; unset: none. */
  readonly caFile?: string | undefined;
}

function tlsEnv(files: PairTlsFiles | undefined): Record<string, string> {
  if (!files) return {};
  return {
    TLS_CERT_FILE: files.certFile,
    TLS_KEY_FILE: files.keyFile,
    ...(files.caFile ? { TLS_CA_FILE: files.caFile } : {}),
  };
}

/** Starts server1, then server2 pointed at it, as a user of the README would. */
export async function startPair(options: PairOptions = {}): Promise<ServicePair> {
  const [port1, port2] = [await freePort(), await freePort()];
  const scheme = options.https ? 'https' : 'http';
  const server1Url =
    options.publicUrls?.server1 ?? `${scheme}://${options.server1Host ?? 'localhost'}:${port1}`;
  const server2Url =
    options.publicUrls?.server2 ?? `${scheme}://${options.server2Host ?? 'localhost'}:${port2}`;
  const dirs = [tempDir('server1'), tempDir('server2')] as const;
  const demoPassword = 'e2e-demo-password';
  const serviceOptions = (execArgv: readonly string[] | undefined, dir: string) => ({
    ...(execArgv ? { execArgv } : {}),
    ...(options.logsToFile ? { stdoutFile: join(dir, 'stdout.log') } : {}),
  });
  const server1 = await startService(
    'server1',
    {
      PORT: String(port1),
      PUBLIC_URL: server1Url,
      DATA_DIR: dirs[0],
      SEED_DEMO_USERS: 'true',
      DEMO_PASSWORD: demoPassword,
      CLIENTS: JSON.stringify([
        {
          id: 'server2',
          redirect_uris: [`${server2Url}/handoff/callback`],
          // Server-to-server calls use the loopback address: the public host names may exist only
          // in a browser's resolver (server1.test, server2.test).
          backchannel_logout_uri: `${scheme}://127.0.0.1:${port2}/backchannel-logout`,
          api_url: `${scheme}://127.0.0.1:${port2}`,
          post_logout_redirect_uris: [`${server2Url}/logout/complete`],
        },
        ...(options.moreClients ?? []),
      ]),
      ...tlsEnv(options.https?.server1),
      ...options.server1Env,
    },
    serviceOptions(options.server1ExecArgv, dirs[0]),
  );
  const server2 = await startService(
    'server2',
    {
      PORT: String(port2),
      PUBLIC_URL: server2Url,
      ISSUER_URL: server1Url,
      ...(options.server2Discovery
        ? { ISSUER_DISCOVERY: 'true' }
        : { JWKS_URL: `${scheme}://127.0.0.1:${port1}/.well-known/jwks.json` }),
      DATA_DIR: dirs[1],
      ...tlsEnv(options.https?.server2),
      ...options.server2Env,
    },
    serviceOptions(options.server2ExecArgv, dirs[1]),
  );
  return {
    server1,
    server2,
    demoPassword,
    async close() {
      await Promise.all([server1.stop(), server2.stop()]);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How one run of server1's keys command ended. */
export interface KeysCliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `npm run keys -- <args>` (server1's compiled dist/cli/keys.js) in its own process with
 * exactly `env` (and PATH). With `now`, the command's Date.now is that time (epoch ms), so that a
 * rotation it starts lines up with a test's fake clock.
 */
export function runKeysCommand(
  env: Readonly<Record<string, string>>,
  args: readonly string[],
  options: { now?: number } = {},
): Promise<KeysCliRun> {
  const cli = distFile('@jwt-handoff/server1', 'cli/keys.js');
  const fakeNow =
    options.now === undefined ? [] : [`--import=data:text/javascript,Date.now=()=>${options.now}`];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...fakeNow, cli, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        if (!error) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolve({ code: error.code, stdout, stderr });
        else reject(error);
      },
    );
  });
}
