import { randomId } from '@jwt-handoff/shared';
import type { PasswordHasher } from '../auth/password-hasher.js';
import type { UserStore } from './user-store.js';

/** The demo accounts `SEED_DEMO_USERS=true` creates. */
export const DEMO_USERS = Object.freeze([
  { username: 'alice', name: 'Alice Liddell', email: 'alice@example.test' },
  { username: 'bob', name: 'Bob Marley', email: 'bob@example.test' },
]);

/**
 * Creates alice and bob with `password` when they do not exist yet; an existing account is left
 * as it is. Resetting their passwords at every start would undo any change made since, and would
 * bring a known password back with each restart.
 */
export async function seedDemoUsers(users: UserStore, hasher: PasswordHasher, password: string, now: number) {
  for (const demo of DEMO_USERS) {
    if (await users.findByUsername(demo.username)) continue;
    await users.upsert({
      id: `usr_${randomId().slice(0, 22)}`,
      ...demo,
      passwordHash: await hasher.hash(password),
      tokensValidAfter: null,
      createdAt: now,
    });
  }
}
