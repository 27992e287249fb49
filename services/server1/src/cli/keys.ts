// `npm run keys -- list | rotate`: server1's signing keys, against its data directory, whether
// server1 is running or not (a running server1 picks a rotation up within a second). Reads the
// same environment as server1 (DATA_DIR, SIGNING_ALG, JWKS_MAX_AGE_SEC, ...).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@jwt-handoff/shared';
import { loadConfig, timingInputOf } from '../config.js';
import { keysFromEnvironment } from '../keys/environment-keys.js';
import { type KeyDescription, KeyRing } from '../keys/key-ring.js';
import { rotationTiming } from '../keys/key-timeline.js';
import { RotationRefusedError, rotateKeys } from '../keys/rotate-keys.js';
import { openServer1Database } from '../stores/database.js';
import { createSqliteKeyStore } from '../stores/key-store.js';

const USAGE = 'usage: npm run keys -- list | rotate';

async function main(command: string | undefined): Promise<number> {
  if (command !== 'list' && command !== 'rotate') {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig(process.env);
  const now = Date.now();
  if (config.signingKeys) {
    const ring = await KeyRing.fromKeys(
      await keysFromEnvironment(config.signingKeys, config.signingAlgorithm),
    );
    if (command === 'rotate') {
      console.error(
        'keys come from the environment (SIGNING_KEY): rotate them by redeploying (see docs/keys.md)',
      );
      return 1;
    }
    printKeys(ring.describe(now), now);
    return 0;
  }
  // Never create a database here: a mistyped DATA_DIR would otherwise get a fresh key listed
  // as if it were the server's.
  if (!existsSync(join(config.dataDir, 'server1.sqlite'))) {
    console.error(`keys: no server1 database in ${config.dataDir} (check DATA_DIR, or start server1 once)`);
    return 1;
  }
  const db = openServer1Database(config.dataDir);
  try {
    const store = createSqliteKeyStore(db);
    if (command === 'rotate') {
      const timing = rotationTiming(timingInputOf(config));
      const result = await rotateKeys(store, { algorithm: config.signingAlgorithm, timing, now });
      console.log(
        `new key ${result.kid} (${config.signingAlgorithm}) is published now and signs from ${iso(result.signFrom)}`,
      );
      for (const old of result.retiring) {
        console.log(
          `key ${old.kid} stops signing at ${iso(old.retireAt)} and leaves the JWKS at ${iso(old.unpublishAt)}`,
        );
      }
      console.log('');
    }
    const ring = await KeyRing.fromStore(store, config.signingAlgorithm, now, { generateFirstKey: false });
    printKeys(ring.describe(now), now);
    return 0;
  } finally {
    db.close();
  }
}

function printKeys(keys: readonly KeyDescription[], now: number): void {
  console.log(`keys at ${iso(now)}:`);
  const rows = keys.map((key) => [
    key.kid,
    key.alg,
    key.state,
    iso(key.signFrom),
    key.retireAt === null ? '-' : iso(key.retireAt),
    key.unpublishAt === null ? '-' : iso(key.unpublishAt),
    key.nextTransition ? `${key.nextTransition.to} at ${iso(key.nextTransition.at)}` : '-',
  ]);
  const header = ['kid', 'alg', 'state', 'signs from', 'stops signing', 'leaves JWKS', 'next transition'];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  for (const row of [header, ...rows])
    console.log(row.map((cell, i) => cell.padEnd(widths[i] as number)).join('  '));
}

function iso(ms: number): string {
  if (ms >= Number.MAX_SAFE_INTEGER) return 'never';
  // Keys from the environment have no recorded times.
  return ms === 0 ? '-' : new Date(ms).toISOString();
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError || err instanceof RotationRefusedError)
      console.error(`keys: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
