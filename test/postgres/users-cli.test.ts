import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createScryptHasher } from '@jwt-handoff/server1';
import { describe, expect, it } from 'vitest';
import { freshDatabase, openReplicaStores } from './helpers.js';

const USERS_CLI = fileURLToPath(new URL('./cli/users.js', import.meta.resolve('@jwt-handoff/server1')));

function users(databaseUrl: string, args: readonly string[], stdin: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [USERS_CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl }, timeout: 20_000 },
      (error, stdout, stderr) => {
        if (!error) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolve({ code: error.code, stdout, stderr });
        else reject(error);
      },
    );
    child.stdin?.end(stdin);
  });
}

// The account command on server1's PostgreSQL (DATABASE_URL), as the compose topology's e2e
// container runs it: on a database no replica has migrated yet, and where usernames are unique
// whatever their case.
describe('npm run users -- add, on PostgreSQL', () => {
  it('creates an account whose password server1 verifies, and refuses its name in another case', async () => {
    const databaseUrl = await freshDatabase();

    const created = await users(databaseUrl, ['add', 'alice', '--name', 'Alice Liddell'], 'alice-password\n');
    expect(created).toMatchObject({ code: 0, stdout: 'user alice created\n' });
    const taken = await users(databaseUrl, ['add', 'ALICE', '--name', 'Mallory'], 'mallory-password');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('users: the username ALICE is taken');
    const kept = await users(
      databaseUrl,
      ['add', 'alice', '--name', 'Other', '--if-missing'],
      'other-password',
    );
    expect(kept.code).toBe(0);

    const stores = await openReplicaStores(databaseUrl);
    const alice = await stores.users.findByUsername('alice');
    expect(alice).toMatchObject({ username: 'alice', name: 'Alice Liddell', email: '' });
    const hasher = createScryptHasher();
    expect(await hasher.verify('alice-password', alice?.passwordHash as string)).toBe(true);
    expect(await hasher.verify('other-password', alice?.passwordHash as string)).toBe(false);
  });
});
