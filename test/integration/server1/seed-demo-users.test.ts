import { join } from 'node:path';
import { createScryptHasher } from '@jwt-handoff/server1';
import { CookieJar } from '@jwt-handoff/testkit';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, signIn, startServer1 } from './helpers.js';

// Cheap parameters, as in the helpers: the hashing is not what these tests are about.
const hasher = createScryptHasher({ cost: 2 ** 10, blockSize: 8, parallelization: 1, keyLength: 32 });

/** The stored password hashes of the users in server1's database in `dataDir`, by username. */
function storedHashes(dataDir: string): Record<string, string> {
  const db = new Database(join(dataDir, 'server1.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[], { username: string; password_hash: string }>('SELECT username, password_hash FROM users')
      .all();
    return Object.fromEntries(rows.map((row) => [row.username, row.password_hash]));
  } finally {
    db.close();
  }
}

/** Gives `username` the password hash `hash`, as a password change would. */
function setStoredHash(dataDir: string, username: string, hash: string): void {
  const db = new Database(join(dataDir, 'server1.sqlite'));
  try {
    db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(hash, username);
  } finally {
    db.close();
  }
}

describe('SEED_DEMO_USERS', () => {
  it('creates alice and bob on the first start', async () => {
    const server = await startServer1();

    expect(Object.keys(storedHashes(server.dataDir)).sort()).toEqual(['alice', 'bob']);
    expect((await signIn(server.app, new CookieJar(), { username: 'bob' })).statusCode).toBe(303);
  });

  it('leaves the stored password hashes alone on a restart', async () => {
    const server = await startServer1();
    const before = storedHashes(server.dataDir);

    await server.restart();

    expect(storedHashes(server.dataDir)).toEqual(before);
  });

  it('keeps a password changed since seeding, whatever DEMO_PASSWORD says at the restart', async () => {
    const server = await startServer1();
    await server.stop();
    setStoredHash(server.dataDir, 'alice', await hasher.hash('alice-chose-this-one'));

    const restarted = await startServer1({
      dataDir: server.dataDir,
      env: { DEMO_PASSWORD: 'a-new-demo-password' },
    });

    for (const password of [DEMO_PASSWORD, 'a-new-demo-password']) {
      expect((await signIn(restarted.app, new CookieJar(), { password })).statusCode).toBe(401);
    }
    expect(
      (await signIn(restarted.app, new CookieJar(), { password: 'alice-chose-this-one' })).statusCode,
    ).toBe(303);
  });

  it('creates a demo account that is missing, keeping the other', async () => {
    const server = await startServer1();
    const aliceHash = storedHashes(server.dataDir).alice;
    await server.stop();
    const db = new Database(join(server.dataDir, 'server1.sqlite'));
    db.prepare("DELETE FROM users WHERE username = 'bob'").run();
    db.close();

    await server.restart();

    expect(storedHashes(server.dataDir).alice).toBe(aliceHash);
    expect((await signIn(server.app, new CookieJar(), { username: 'bob' })).statusCode).toBe(303);
  });
});
