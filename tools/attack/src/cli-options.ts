import { parseArgs } from 'node:util';
import { RUN_DEFAULTS, type RunOptions } from './run-attacks.js';

/** What the command line asks for. */
export interface CliOptions extends Omit<RunOptions, 'onResult'> {
  /** Where to write the table as JSON. */
  json: string | undefined;
  /** Print the attack ids and exit. */
  list: boolean;
  help: boolean;
}

/** The defaults: the URLs and demo user of `npm start`. */
export const CLI_DEFAULTS = Object.freeze({
  server1: 'http://localhost:4001',
  server2: 'http://localhost:4002',
  username: 'alice',
  /** The demo password when DEMO_PASSWORD is not set, as scripts/demo.mjs uses. */
  password: 'handoff-demo',
});

export const USAGE = `Usage: npm run attack -- [options]

Fires known JWT and handoff attacks at a running jwt-handoff deployment, over HTTP only, and
prints a table. Exit 0: every attack refused; 1: an attack got through, or a check refused for
the wrong reason; 2: the deployment could not be (fully) tested.

  --server1 URL     server1 as browsers reach it (default ${CLI_DEFAULTS.server1})
  --server2 URL     server2 as browsers reach it (default ${CLI_DEFAULTS.server2})
  --user U          a user of server1 (default ${CLI_DEFAULTS.username})
  --password P      its password (default $DEMO_PASSWORD, else ${CLI_DEFAULTS.password})
  --only REGEX      only the attacks whose family/id matches (see --list); whole-run checks always run
  --json FILE       also write the table as JSON
  --leeway SEC      the clock leeway assumed of server2 (default ${RUN_DEFAULTS.leewaySec})
  --max-wait SEC    wait at most this long for a token to expire (default ${RUN_DEFAULTS.maxWaitSec})
  --list            print every attack's family/id and exit
  --help            this text`;

/**
 * Reads the command line (and DEMO_PASSWORD from `env`). Throws a TypeError naming every bad
 * option at once.
 */
export function parseCliOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      server1: { type: 'string', default: CLI_DEFAULTS.server1 },
      server2: { type: 'string', default: CLI_DEFAULTS.server2 },
      user: { type: 'string', default: CLI_DEFAULTS.username },
      password: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      leeway: { type: 'string', default: String(RUN_DEFAULTS.leewaySec) },
      'max-wait': { type: 'string', default: String(RUN_DEFAULTS.maxWaitSec) },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const problems: string[] = [];
  const url = (name: string, value: string) => {
    try {
      if (/^https?:$/.test(new URL(value).protocol)) return value;
    } catch {
      // reported below
    }
    problems.push(`--${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
    return value;
  };
  const seconds = (name: string, value: string) => {
    const parsed = Number(value);
    if (!(Number.isFinite(parsed) && parsed >= 0)) problems.push(`--${name} must be a number of seconds ≥ 0`);
    return parsed;
  };
  let only: RegExp | undefined;
  try {
    only = values.only === undefined ? undefined : new RegExp(values.only);
  } catch (err) {
    problems.push(`--only is not a regular expression: ${(err as Error).message}`);
  }
  const options: CliOptions = {
    server1: url('server1', values.server1 as string),
    server2: url('server2', values.server2 as string),
    username: values.user as string,
    password: values.password ?? env.DEMO_PASSWORD ?? CLI_DEFAULTS.password,
    only,
    json: values.json,
    leewaySec: seconds('leeway', values.leeway as string),
    maxWaitSec: seconds('max-wait', values['max-wait'] as string),
    list: values.list as boolean,
    help: values.help as boolean,
  };
  if (problems.length > 0) throw new TypeError(problems.join('\n'));
  return options;
}
