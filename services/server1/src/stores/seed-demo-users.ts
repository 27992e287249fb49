import { randomId } from '@jwt-handoff/shared';
import type { PasswordHasher } from '../auth/password-hasher.js';
import type { UserStore } from './user-store.js';

/** The demo accounts `SEED_DEMO_USERS=true` creates. */
export const DEMO_USERS = Object.freeze([
  { username: 'alice', name: 'Alice Liddell', email: 'alice@example.test' },
  { username: 'bob', name: 'Bob Marley', email: 'bob@example.test' },
]);

/**
 * Creates alice and bob, or resets their password to `password` if they exist, so that the
 * password printed by the demo is always the one that works. Their ids never change.
 */
export async function seedDemoUsers(users: UserStore, hasher: PasswordHasher, password: string, now: number) {
  for (const demo of DEMO_USERS) {
    const existing = await users.findByUsername(demo.username);
    await users.upsert({
      id: existing?.id ?? `usr_${randomId().slice(0, 22)}`,
      ...demo,
      passwordHash: await hasher.hash(password),
      tokensValidAfter: existing?.tokensValidAfter ?? null,
      createdAt: existing?.createdAt ?? now,
    });
  }
}
