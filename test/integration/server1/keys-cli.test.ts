import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type KeysCliRun, type TestClock, testClock } from '@jwt-handoff/testkit';
import { suiteScope, tempDataDir } from '@jwt-handoff/testkit/vitest';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { iso, listedKeys, publishedKids, runKeysCli, startServer1, storedKids } from './helpers.js';

// The CLI reads the same environment as server1. Token lifetimes stay at their defaults (60, 60
// and 120 s): the logout token's 120 s is the longest.
const ENV = { JWKS_MAX_AGE_SEC: '60', KEY_TIMING_MARGIN_MS: '10000' };
/** JWKS max-age + the 1 s reload interval + margin. */
const PUBLISH_LEAD_MS = 60_000 + 1_000 + 10_000;
/** Longest token lifetime + 5 s leeway + margin. */
const RETENTION_MS = (120 + 5) * 1000 + 10_000;

describe('npm run keys', () => {
  const dataDir = tempDataDir('jwt-handoff-server1', suiteScope());

  it.each([[[]], [['rotat']], [['--help']]])('exits 2 with the usage for %j', async (args) => {
    const run = await runKeysCli(dataDir, args, { env: ENV });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: npm run keys -- list | rotate');
    expect(run.stdout).toBe('');
  });

  it('exits 1 naming the variable when the configuration is wrong', async () => {
    const run = await runKeysCli(dataDir, ['list'], { env: { ...ENV, JWKS_MAX_AGE_SEC: 'long' } });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^keys: .*JWKS_MAX_AGE_SEC/s);
    expect(run.stdout).toBe('');
  });

  // A mistyped DATA_DIR must not get a fresh database and key, listed as if they were server1's.
  it.each(['list', 'rotate'])(
    'refuses to %s where DATA_DIR holds no server1 database, creating nothing',
    async (command) => {
      const run = await runKeysCli(dataDir, [command], { env: ENV });

      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `keys: no server1 database in ${dataDir} (check DATA_DIR, or start server1 once)\n`,
      );
      expect(run.stdout).toBe('');
      expect(readdirSync(dataDir)).toEqual([]);
    },
  );

  it.each(['list', 'rotate'])(
    'refuses to %s where DATA_DIR does not exist, and does not create it',
    async (command) => {
      const missing = join(dataDir, 'no-such-dir');

      const run = await runKeysCli(missing, [command], { env: ENV });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`keys: no server1 database in ${missing} `);
      expect(run.stdout).toBe('');
      expect(existsSync(missing)).toBe(false);
    },
  );
});

/** A data directory that server1 has started on once (and stopped), so that it holds a database and a first key. */
async function startedDataDir(clock?: TestClock) {
  const server = await startServer1({ env: ENV, clock });
  const [kid] = (await publishedKids(server.app)) as [string];
  await server.stop();
  return { path: server.dataDir, kid };
}

describe('list and rotate against a stopped server1', () => {
  // The tests below walk two rotations forward in time, in order, with the command's clock.
  const dataDir = tempDataDir('jwt-handoff-server1', suiteScope());
  const clock = testClock();
  const cli = (command: string) => runKeysCli(dataDir, [command], { env: ENV, clock });
  let firstKid: string;
  let secondKid: string;
  let signFrom: number;

  it('lists the one key server1 generated on its first start, the key it publishes', async () => {
    // The command never creates a database: server1 starts once, and generates its first key.
    const server = await startServer1({ dataDir, env: ENV, clock });
    [firstKid] = (await publishedKids(server.app)) as [string];
    await server.stop();
    clock.advance(1_000);

    const run = await cli('list');

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`keys at ${iso(clock.now())}:`);
    expect(listedKeys(run.stdout)).toEqual([
      {
        kid: firstKid,
        alg: 'EdDSA',
        state: 'current',
        signsFrom: iso(clock.now() - 1_000),
        stopsSigning: '-',
        leavesJwks: '-',
        nextTransition: '-',
      },
    ]);
    expect(storedKids(dataDir)).toEqual([firstKid]);
  });

  it('rotate publishes a new key now, and says when it signs and when the old key leaves', async () => {
    clock.advance(60_000);
    signFrom = clock.now() + PUBLISH_LEAD_MS;

    const run = await cli('rotate');

    expect(run.code, run.stderr).toBe(0);
    const [first, second] = listedKeys(run.stdout) as [unknown, { kid: string }];
    secondKid = second.kid;
    expect(run.stdout).toContain(
      `new key ${secondKid} (EdDSA) is published now and signs from ${iso(signFrom)}\n`,
    );
    expect(run.stdout).toContain(
      `key ${firstKid} stops signing at ${iso(signFrom)} and leaves the JWKS at ${iso(signFrom + RETENTION_MS)}\n`,
    );
    expect(first).toEqual({
      kid: firstKid,
      alg: 'EdDSA',
      state: 'current',
      signsFrom: expect.any(String),
      stopsSigning: iso(signFrom),
      leavesJwks: iso(signFrom + RETENTION_MS),
      nextTransition: `retiring at ${iso(signFrom)}`,
    });
    expect(second).toEqual({
      kid: secondKid,
      alg: 'EdDSA',
      state: 'next',
      signsFrom: iso(signFrom),
      stopsSigning: '-',
      leavesJwks: '-',
      nextTransition: `current at ${iso(signFrom)}`,
    });
  });

  it('lists the new key as current and the old one as retiring from the new key’s signing time', async () => {
    clock.advanceTo(signFrom - 1);
    expect(listedKeys((await cli('list')).stdout).map((key) => key.state)).toEqual(['current', 'next']);

    clock.advanceTo(signFrom);
    const keys = listedKeys((await cli('list')).stdout);

    expect(keys).toEqual([
      expect.objectContaining({
        kid: firstKid,
        state: 'retiring',
        nextTransition: `dropped at ${iso(signFrom + RETENTION_MS)}`,
      }),
      expect.objectContaining({ kid: secondKid, state: 'current', nextTransition: '-' }),
    ]);
  });

  it('accepts the next rotation once the new key signs, with the retiring key still listed', async () => {
    const nextSignFrom = clock.now() + PUBLISH_LEAD_MS;

    const run = await cli('rotate');

    expect(run.code, run.stderr).toBe(0);
    const keys = listedKeys(run.stdout);
    expect(keys.map(({ kid, state }) => ({ kid, state }))).toEqual([
      { kid: firstKid, state: 'retiring' },
      { kid: secondKid, state: 'current' },
      { kid: expect.any(String), state: 'next' },
    ]);
    expect(new Set(keys.map((key) => key.kid)).size).toBe(3);
    expect(keys[1]?.nextTransition).toBe(`retiring at ${iso(nextSignFrom)}`);
    expect(keys[2]?.nextTransition).toBe(`current at ${iso(nextSignFrom)}`);
  });

  it('no longer lists a key once it has left the JWKS', async () => {
    clock.advanceTo(signFrom + RETENTION_MS);

    const run = await cli('list');

    expect(run.code, run.stderr).toBe(0);
    expect(listedKeys(run.stdout).map((key) => key.state)).toEqual(['retiring', 'current']);
    expect(run.stdout).not.toContain(firstKid);
    // Deleting it is the running server1's job; the command only reads.
    expect(storedKids(dataDir)).toContain(firstKid);
  });
});

describe('with keys from the environment', () => {
  const dataDir = tempDataDir('jwt-handoff-server1', suiteScope());
  const [previous, current, next] = [1, 2, 3].map(() => generateKeyPairSync('ed25519'));
  const pem = (key: { privateKey: KeyObject } | undefined) =>
    key?.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const env = {
    ...ENV,
    SIGNING_KEY: pem(current),
    SIGNING_KEY_NEXT: pem(next),
    SIGNING_KEY_PREVIOUS: pem(previous),
  };

  it('lists SIGNING_KEY_PREVIOUS as retiring, SIGNING_KEY as current and SIGNING_KEY_NEXT as next', async () => {
    const kids = await Promise.all(
      [previous, current, next].map((key) =>
        calculateJwkThumbprint(key?.publicKey.export({ format: 'jwk' }) as JWK, 'sha256'),
      ),
    );

    const run = await runKeysCli(dataDir, ['list'], { env });

    expect(run.code, run.stderr).toBe(0);
    expect(listedKeys(run.stdout).map(({ kid, alg, state }) => ({ kid, alg, state }))).toEqual([
      { kid: kids[0], alg: 'EdDSA', state: 'retiring' },
      { kid: kids[1], alg: 'EdDSA', state: 'current' },
      { kid: kids[2], alg: 'EdDSA', state: 'next' },
    ]);
    // Keys from the environment need no database: none is created.
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('shows the times these keys do not have as -, and no transition for the next key, which signs only once redeployed', async () => {
    const run = await runKeysCli(dataDir, ['list'], { env });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('1970-01-01');
    expect(listedKeys(run.stdout).map(({ kid: _kid, alg: _alg, ...times }) => times)).toEqual([
      { state: 'retiring', signsFrom: '-', stopsSigning: '-', leavesJwks: '-', nextTransition: '-' },
      { state: 'current', signsFrom: '-', stopsSigning: '-', leavesJwks: '-', nextTransition: '-' },
      { state: 'next', signsFrom: 'never', stopsSigning: '-', leavesJwks: '-', nextTransition: '-' },
    ]);
  });

  it('refuses to list them when two variables hold the same key, naming the variable', async () => {
    const run = await runKeysCli(dataDir, ['list'], {
      env: { ...env, SIGNING_KEY_NEXT: pem(current) },
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^keys: .*SIGNING_KEY_NEXT holds the same key as another SIGNING_KEY variable/s,
    );
    expect(run.stdout).toBe('');
  });

  it('refuses to rotate them: they are rotated by redeploying', async () => {
    const run = await runKeysCli(dataDir, ['rotate'], { env });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('keys come from the environment (SIGNING_KEY)');
    expect(run.stderr).toContain('redeploying');
    expect(run.stdout).toBe('');
  });
});

describe('two rotations at once', () => {
  /** The announced new kid of a successful `rotate`. */
  const announcedKid = (stdout: string) => /^new key (\S+) /m.exec(stdout)?.[1];

  /**
   * Checks that exactly one of two racing `rotate` runs won, and that the database holds its key
   * as the one waiting key; returns the loser.
   */
  async function expectOneWinner(
    dataDir: { path: string; kid: string },
    runs: KeysCliRun[],
    clock: TestClock,
  ) {
    expect(runs.map((run) => run.code).sort()).toEqual([0, 1]);
    const winner = runs.find((run) => run.code === 0) as KeysCliRun;
    const loser = runs.find((run) => run.code === 1) as KeysCliRun;
    const newKid = announcedKid(winner.stdout);
    expect(newKid).toEqual(expect.any(String));
    expect(loser.stdout).toBe('');

    const list = await runKeysCli(dataDir.path, ['list'], { env: ENV, clock });
    expect(list.code, list.stderr).toBe(0);
    expect(listedKeys(list.stdout).map(({ kid, state }) => ({ kid, state }))).toEqual([
      { kid: dataDir.kid, state: 'current' },
      { kid: newKid, state: 'next' },
    ]);
    expect(storedKids(dataDir.path)).toEqual([dataDir.kid, newKid]);
    return loser;
  }

  it('lets only one of two concurrent rotate commands create a waiting key; the other exits 1', async () => {
    const clock = testClock();
    const dataDir = await startedDataDir(clock);

    const runs = await Promise.all([
      runKeysCli(dataDir.path, ['rotate'], { env: ENV, clock }),
      runKeysCli(dataDir.path, ['rotate'], { env: ENV, clock }),
    ]);

    const loser = await expectOneWinner(dataDir, runs, clock);
    // Refused before or inside the rotation's transaction, depending on timing: never a crash.
    expect(loser.stderr).toMatch(
      /^keys: (key \S+ is already waiting to sign|another rotation started at the same moment)/,
    );
  });

  it('refuses the second one inside the transaction, when both passed the check before it', async () => {
    const clock = testClock();
    const dataDir = await startedDataDir(clock);
    const barrier = tempDataDir('jwt-handoff-server1');
    // Both commands look for a waiting key and find none; then each waits, before generating its
    // new key, until the other has looked too. Only the check inside the transaction is left to
    // stop the second one.
    const hook = join(barrier, 'hold-key-generation.mjs');
    writeFileSync(
      hook,
      `import { readdirSync, writeFileSync } from 'node:fs';
const dir = ${JSON.stringify(join(barrier, 'arrived'))};
const subtle = Object.getPrototypeOf(globalThis.crypto.subtle);
const generateKey = subtle.generateKey;
subtle.generateKey = async function (...args) {
  writeFileSync(dir + '/' + process.pid, '');
  const deadline = performance.now() + 10000;
  while (readdirSync(dir).length < 2 && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  return generateKey.apply(this, args);
};
`,
    );
    const arrived = join(barrier, 'arrived');
    mkdirSync(arrived);
    const env = { ...ENV, NODE_OPTIONS: `--import=${pathToFileURL(hook).href}` };

    const runs = await Promise.all([
      runKeysCli(dataDir.path, ['rotate'], { env, clock }),
      runKeysCli(dataDir.path, ['rotate'], { env, clock }),
    ]);

    expect(readdirSync(arrived)).toHaveLength(2);
    const loser = await expectOneWinner(dataDir, runs, clock);
    expect(loser.stderr).toBe('keys: another rotation started at the same moment; list the keys and retry\n');
  });
});
