import { randomId } from '@jwt-handoff/shared';
import type { PasswordHasher } from '../auth/password-hasher.js';
import type { UserStore } from '../stores/user-store.js';

/** A new account's fields as an administrator gives them. */
export interface NewAccount {
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly password: string;
}

/** Why an account was not created: bad input, or the username is taken. */
export class AccountRefusedError extends Error {}

// A password longer than the sign-in form reads (routes/login.ts) could never be typed in.
const PASSWORD_MIN_LENGTH = 8;
const PASSWORD_MAX_LENGTH = 1024;
// Letters, digits and the punctuation of e-mail-like names; no spaces or control characters,
// which would make two accounts look alike on a page.
const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
const NAME_MAX_LENGTH = 200;

/** What is wrong with `account`, for the administrator; undefined when it can be created. */
export function accountProblem(account: NewAccount): string | undefined {
  if (!USERNAME_PATTERN.test(account.username))
    return 'the username must be 1-64 letters, digits, ".", "_", "@" or "-"';
  const name = account.name.trim();
  if (name.length === 0 || name.length > NAME_MAX_LENGTH || /\p{Cc}/u.test(name))
    return `the name must be 1-${NAME_MAX_LENGTH} printable characters`;
  if (account.email !== '' && !/^[^\s@]+@[^\s@]+$/.test(account.email))
    return 'the e-mail address must look like name@domain';
  if (account.password.length < PASSWORD_MIN_LENGTH)
    return `the password must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (account.password.length > PASSWORD_MAX_LENGTH)
    return `the password must be at most ${PASSWORD_MAX_LENGTH} characters`;
  return undefined;
}

/**
 * Creates an account with its password hashed as server1 hashes them. A taken username (in any
 * case: usernames are unique whatever their case) is refused, or with `ifMissing` left as it is:
 * re-running a provisioning step must neither fail nor reset a password changed since.
 */
export async function addAccount(
  users: UserStore,
  hasher: PasswordHasher,
  account: NewAccount,
  options: { now: number; ifMissing?: boolean },
): Promise<'created' | 'exists'> {
  const problem = accountProblem(account);
  if (problem) throw new AccountRefusedError(problem);
  if (await users.findByUsername(account.username)) {
    if (options.ifMissing) return 'exists';
    throw new AccountRefusedError(`the username ${account.username} is taken`);
  }
  await users.upsert({
    id: `usr_${randomId().slice(0, 22)}`,
    username: account.username,
    name: account.name.trim(),
    email: account.email,
    passwordHash: await hasher.hash(account.password),
    tokensValidAfter: null,
    createdAt: options.now,
  });
  return 'created';
}
