// `npm run users -- add USERNAME --name "Display Name" [--email ADDRESS] [--password-env VAR]
// [--if-missing]`: creates a server1 account, in its data directory or its PostgreSQL database
// (DATABASE_URL), whether server1 is running or not. Production mode has no demo users; this is
// how accounts come to exist. The password is read from standard input (a prompt without echo on
// a terminal), or from the environment variable that --password-env names: never from the
// arguments, which other users of the machine can read. Reads the same environment as server1.
import { parseArgs } from 'node:util';
import { ConfigError, StoreUnavailableError } from '@jwt-handoff/shared';
import { AccountRefusedError, addAccount } from '../accounts/add-account.js';
import { createScryptHasher } from '../auth/password-hasher.js';
import { loadConfig } from '../config.js';
import { openCliStores } from './cli-stores.js';
import { PasswordInputError, readPassword } from './read-password.js';

const USAGE =
  'usage: npm run users -- add USERNAME --name "Display Name" [--email ADDRESS] [--password-env VAR] [--if-missing]\n' +
  '       (the password is read from standard input, or from the variable --password-env names)';

class UsageError extends Error {}

function parseCommand(argv: readonly string[]) {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command, username, ...extra] = parsed.positionals;
  if (command !== 'add' || username === undefined || extra.length > 0) throw new UsageError('');
  if (parsed.values.name === undefined) throw new UsageError('--name is required');
  return {
    username,
    name: parsed.values.name,
    email: parsed.values.email ?? '',
    passwordEnv: parsed.values['password-env'],
    ifMissing: parsed.values['if-missing'] === true,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      email: { type: 'string' },
      'password-env': { type: 'string' },
      'if-missing': { type: 'boolean' },
    },
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommand(argv);
  const config = loadConfig(process.env);
  const opened = await openCliStores(config);
  if (!opened.stores) {
    console.error(`users: ${opened.reason}`);
    return 1;
  }
  try {
    // After the store is found: nobody types a password for a database that is not there.
    const password = await readPassword(command.passwordEnv, `password for ${command.username}: `);
    const outcome = await addAccount(
      opened.stores.users,
      createScryptHasher(),
      { username: command.username, name: command.name, email: command.email, password },
      { now: Date.now(), ifMissing: command.ifMissing },
    );
    console.log(
      outcome === 'created'
        ? `user ${command.username} created`
        : `user ${command.username} exists already; left as it is (--if-missing)`,
    );
    return 0;
  } finally {
    await opened.stores.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      if (err.message) console.error(`users: ${err.message}`);
      console.error(USAGE);
      process.exit(2);
    }
    if (err instanceof ConfigError || err instanceof AccountRefusedError || err instanceof PasswordInputError)
      console.error(`users: ${err.message}`);
    else if (err instanceof StoreUnavailableError) console.error(`users: ${err.message} (DATABASE_URL)`);
    else console.error(err);
    process.exit(1);
  },
);
