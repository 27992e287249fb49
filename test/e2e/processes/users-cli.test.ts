import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Browser, freePort, type ServiceProcess, startService, tempDir } from '@jwt-handoff/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const USERS_CLI = fileURLToPath(new URL('./cli/users.js', import.meta.resolve('@jwt-handoff/server1')));

/** Runs `npm run users -- …args` against `dataDir`, with `stdin` piped in. */
function users(
  dataDir: string,
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [USERS_CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ...options.env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        if (!error) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolve({ code: error.code, stdout, stderr });
        else reject(error);
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

/** Signs in at server1's form; the page the browser lands on. */
async function signIn(url: string, username: string, password: string) {
  const browser = new Browser();
  const form = await browser.open(`${url}/login`);
  return browser.submitForm(form, '/login', { username, password });
}

// The account command that production mode relies on (it has no demo users), on server1's SQLite
// database while server1 runs: the accounts it makes sign in at the real server.
describe('npm run users -- add', () => {
  let server1: ServiceProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir('users-cli');
    const port = await freePort();
    server1 = await startService('server1', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
    });
  });
  afterAll(async () => {
    await server1?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates an account, with the password from standard input, that signs in at server1', async () => {
    const run = await users(
      dataDir,
      ['add', 'carol', '--name', 'Carol Danvers', '--email', 'carol@example.test'],
      {
        stdin: 'carol-password-1\n',
      },
    );
    expect(run).toMatchObject({ code: 0, stdout: 'user carol created\n' });

    const landed = await signIn(server1.url, 'carol', 'carol-password-1');
    expect(new URL(landed.url).pathname).toBe('/');
    expect(landed.body).toContain('Carol Danvers');
    const refused = await signIn(server1.url, 'carol', 'carol-password-1\n');
    expect(new URL(refused.url).pathname).toBe('/login');
  });

  it('reads the password from the variable --password-env names, never from the arguments', async () => {
    const run = await users(dataDir, ['add', 'dave', '--name', 'Dave', '--password-env', 'DAVE_PASSWORD'], {
      env: { DAVE_PASSWORD: 'dave-password-1' },
    });
    expect(run.code).toBe(0);
    expect(new URL((await signIn(server1.url, 'dave', 'dave-password-1')).url).pathname).toBe('/');

    const argv = await users(dataDir, ['add', 'erin', '--name', 'Erin', '--password', 'erin-password-1']);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toContain("Unknown option '--password'");
    const unset = await users(dataDir, ['add', 'erin', '--name', 'Erin', '--password-env', 'NOT_SET']);
    expect(unset).toMatchObject({ code: 1 });
    expect(unset.stderr).toContain('users: the environment variable NOT_SET is not set');
  });

  it('refuses a taken username in any case, and leaves it as it is with --if-missing', async () => {
    await users(dataDir, ['add', 'frank', '--name', 'Frank'], { stdin: 'frank-password-1' });

    const taken = await users(dataDir, ['add', 'FRANK', '--name', 'Mallory'], { stdin: 'mallory-password' });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('users: the username FRANK is taken');
    const again = await users(dataDir, ['add', 'frank', '--name', 'Frank', '--if-missing'], {
      stdin: 'another-password',
    });
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('exists already') });

    expect(new URL((await signIn(server1.url, 'frank', 'frank-password-1')).url).pathname).toBe('/');
    expect(new URL((await signIn(server1.url, 'frank', 'another-password')).url).pathname).toBe('/login');
  });

  it('refuses bad input, naming what is wrong, and a data directory with no server1 database', async () => {
    const cases: Array<[string[], string, string]> = [
      [['add', 'grace', '--name', 'Grace'], 'short', 'the password must be at least 8 characters'],
      [['add', 'has space', '--name', 'Grace'], 'grace-password', 'the username must be 1-64'],
      [['add', 'grace', '--name', '  '], 'grace-password', 'the name must be 1-200 printable characters'],
      [
        ['add', 'grace', '--name', 'Grace', '--email', 'nope'],
        'grace-password',
        'must look like name@domain',
      ],
    ];
    for (const [args, stdin, message] of cases) {
      const run = await users(dataDir, args, { stdin });
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toContain(message);
    }
    expect((await users(dataDir, ['add', 'grace'])).code).toBe(2);

    const elsewhere = tempDir('users-cli-empty');
    try {
      const run = await users(elsewhere, ['add', 'grace', '--name', 'Grace'], { stdin: 'grace-password' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`no server1 database in ${elsewhere}`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
