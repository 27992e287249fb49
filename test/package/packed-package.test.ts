import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Browser,
  freePort,
  handoff,
  type ServiceProcess,
  signOut,
  startService,
  tempDir,
  within,
} from '@jwt-handoff/testkit';
import { afterAll, describe, expect, it } from 'vitest';

// The shared package as someone outside this workspace gets it: `npm pack` in shared/, the
// tarball installed in a scratch app in a temporary folder (where nothing of the workspace can
// be resolved), and a whole handoff through that app against a real server1. Every step fails
// loudly, with npm's output, rather than being skipped.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sharedDir = join(repoRoot, 'shared');
const FASTIFY_VERSION = '5.12.8';
const DEMO_PASSWORD = 'package-demo-password';
// A file planted in shared/dist before packing: the tarball must not carry it (prepack builds
// from an empty dist, as it must for outputs of deleted sources).
const PLANTED = 'zz-stale-leftover.js';

interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment for npm: without the variables of the `npm run` that started vitest. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/** Runs npm in `cwd`; rejects with the command, its exit and everything it printed unless it exits 0. */
function npm(args: readonly string[], cwd: string, timeoutMs: number): Promise<CommandResult> {
  const command = `npm ${args.join(' ')} (in ${cwd})`;
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          new Error(
            `${command} failed (exit ${code}${signal ? `, ${signal}` : ''}${signal === 'SIGKILL' ? `, killed after ${timeoutMs} ms` : ''}):\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        );
    });
  });
}

/** Every file under `dir`, as paths relative to it with forward slashes. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => path.split(sep).join('/'));
}

// The scratch app: plain JavaScript, importing fastify and the shared package from its own
// node_modules, configured from the environment.
const APP_SOURCE = `import Fastify from 'fastify';
import { relyingParty } from '@jwt-handoff/shared';

const { PORT, ISSUER_URL, JWKS_URL, DATA_DIR } = process.env;
const app = Fastify();
await app.register(relyingParty, {
  issuer: ISSUER_URL,
  clientId: 'scratch',
  publicUrl: \`http://localhost:\${PORT}\`,
  sessionSecret: 'scratch-session-secret-0123456789abcdef',
  dataDir: DATA_DIR,
  jwksUrl: JWKS_URL,
  cookies: { session: 'scratch_session', handoffState: 'scratch_handoff' },
});
app.get('/', { preHandler: app.requireSession() }, async (request) => {
  return \`hello \${request.relyingSession.claims.name}\`;
});
app.get('/readyz', async (_request, reply) => {
  return reply.code(app.relyingParty.isReady() ? 200 : 503).send({ ready: app.relyingParty.isReady() });
});
await app.listen({ host: '127.0.0.1', port: Number(PORT) });
console.log(\`scratch app on \${PORT}, shared package from \${import.meta.resolve('@jwt-handoff/shared')}\`);
`;

/** The scratch app as a child process, resolved once its /readyz answers 200. */
async function startScratchApp(dir: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['app.mjs'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const readyUrl = `http://127.0.0.1:${env.PORT}/readyz`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the scratch app exited (${child.exitCode}):\n${output}`);
    const status = await fetch(readyUrl).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the scratch app was not ready within 20 s (last ${status}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { output: () => output, stop };
}

describe('the shared package, packed and installed outside the workspace', () => {
  const dirs: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  let tarball: string | undefined;
  let scratchDir: string | undefined;

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(join(sharedDir, 'dist', PLANTED), { force: true });
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('packs only dist, the README and package.json, built from a clean dist', async () => {
    const packDir = tempDir('shared-pack');
    dirs.push(packDir);
    writeFileSync(join(sharedDir, 'dist', PLANTED), 'export const leftover = true;\n');

    const { stdout } = await npm(['pack', '--json', '--pack-destination', packDir], sharedDir, 180_000);
    let report: { filename: string; files: { path: string }[] }[];
    try {
      report = JSON.parse(stdout);
    } catch {
      throw new Error(`npm pack --json printed something other than JSON:\n${stdout}`);
    }
    expect(report).toHaveLength(1);
    const [packed] = report as [(typeof report)[number]];
    const files = packed.files.map((file) => file.path).sort();

    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/relying/plugin.js');
    const unexpected = files.filter(
      (path) =>
        path !== 'package.json' &&
        path !== 'README.md' &&
        !/^dist\/[A-Za-z0-9/_.-]+\.(js|d\.ts)(\.map)?$/.test(path),
    );
    expect(unexpected).toEqual([]);
    expect(files.filter((path) => /(^|\/)(src|test)\/|\.test\.|tsbuildinfo/.test(path))).toEqual([]);
    // No leftovers: every module in the tarball comes from a source file that exists today.
    const sources = new Set(filesUnder(join(sharedDir, 'src')));
    const orphans = files
      .filter((path) => path.startsWith('dist/') && path.endsWith('.js'))
      .filter((path) => !sources.has(path.slice('dist/'.length).replace(/\.js$/, '.ts')));
    expect(orphans).toEqual([]);
    expect(files).not.toContain(`dist/${PLANTED}`);

    tarball = join(packDir, packed.filename);
    expect(existsSync(tarball)).toBe(true);
  });

  it('installs from the tarball into an app outside the repository', async () => {
    if (!tarball) throw new Error('no tarball: packing failed (see the test above)');
    const dir = tempDir('scratch-app');
    dirs.push(dir);
    expect(relative(repoRoot, dir).startsWith('..')).toBe(true);
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify(
        {
          name: 'scratch-relying-app',
          version: '0.0.0',
          private: true,
          type: 'module',
          dependencies: { '@jwt-handoff/shared': `file:${tarball}`, fastify: FASTIFY_VERSION },
        },
        null,
        2,
      )}\n`,
    );

    // --ignore-scripts: better-sqlite3's install script would compile the addon again (no
    // prebuilt binary can be downloaded here), a minute or two of CPU for a binary the workspace
    // already has. The same version built for the same Node is copied in instead; the version
    // check below makes sure it is the same.
    await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], dir, 240_000);
    const workspaceRequire = createRequire(join(sharedDir, 'package.json'));
    const workspaceSqlite = dirname(workspaceRequire.resolve('better-sqlite3/package.json'));
    const scratchSqlite = join(dir, 'node_modules', 'better-sqlite3');
    const version = (packageDir: string) =>
      JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version as string;
    expect(version(scratchSqlite)).toBe(version(workspaceSqlite));
    mkdirSync(join(scratchSqlite, 'build', 'Release'), { recursive: true });
    copyFileSync(
      join(workspaceSqlite, 'build', 'Release', 'better_sqlite3.node'),
      join(scratchSqlite, 'build', 'Release', 'better_sqlite3.node'),
    );

    const installed = join(dir, 'node_modules', '@jwt-handoff', 'shared');
    const installedFiles = filesUnder(installed);
    expect(installedFiles).toContain('dist/index.js');
    expect(installedFiles.filter((path) => !path.startsWith('dist/'))).toEqual(['README.md', 'package.json']);
    expect(version(join(dir, 'node_modules', 'fastify'))).toBe(FASTIFY_VERSION);
    writeFileSync(join(dir, 'app.mjs'), APP_SOURCE);
    scratchDir = dir;
  });

  it('signs alice in through server1, refuses a replay, and ends the session on sign-out', async () => {
    if (!scratchDir) throw new Error('no scratch app: installing failed (see the test above)');
    const [serverPort, appPort] = [await freePort(), await freePort()];
    const server1Url = `http://localhost:${serverPort}`;
    const appUrl = `http://localhost:${appPort}`;
    const server1Data = tempDir('package-server1');
    const appData = tempDir('package-scratch-data');
    dirs.push(server1Data, appData);

    const server1: ServiceProcess = await startService('server1', {
      PORT: String(serverPort),
      PUBLIC_URL: server1Url,
      DATA_DIR: server1Data,
      SEED_DEMO_USERS: 'true',
      DEMO_PASSWORD,
      CLIENTS: JSON.stringify([
        {
          id: 'scratch',
          redirect_uris: [`${appUrl}/handoff/callback`],
          backchannel_logout_uri: `http://127.0.0.1:${appPort}/backchannel-logout`,
        },
      ]),
    });
    cleanups.push(() => server1.stop());
    const app = await startScratchApp(scratchDir, {
      PORT: String(appPort),
      ISSUER_URL: server1Url,
      JWKS_URL: `http://127.0.0.1:${serverPort}/.well-known/jwks.json`,
      DATA_DIR: appData,
    });
    cleanups.push(() => app.stop());
    // The app runs the tarball's copy, not the workspace's.
    expect(app.output()).toContain(
      `shared package from file://${join(realpathSync(scratchDir), 'node_modules', '@jwt-handoff', 'shared')}`,
    );

    const browser = new Browser();
    const run = await handoff(browser, appUrl, { username: 'alice', password: DEMO_PASSWORD });
    expect(run.askedForPassword).toBe(true);
    expect(run.page.status).toBe(200);
    expect(run.page.url).toBe(`${appUrl}/`);
    expect(run.page.body).toBe('hello Alice Liddell');
    expect(browser.cookies.get('scratch_session')).toBeTruthy();

    const replay = await new Browser().fetch(
      'POST',
      `${appUrl}/handoff/callback`,
      new URLSearchParams({ token: run.token }).toString(),
      { accept: 'application/json' },
    );
    expect(replay.status).toBe(400);
    expect(JSON.parse(replay.body)).toEqual({ error: 'invalid_token', reason: 'token_replayed' });

    const home = await browser.fetch('GET', `${appUrl}/`);
    expect(home.status).toBe(200);
    const out = await signOut(browser, `${server1Url}/`);
    expect(out.url).toBe(`${server1Url}/login?signed_out=1`);
    await within(2000, async () => (await browser.fetch('GET', `${appUrl}/`)).status !== 200);
    const after = await browser.fetch('GET', `${appUrl}/`);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/handoff/start?return_to=%2F');
  });
});
