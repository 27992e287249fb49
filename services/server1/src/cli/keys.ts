// `npm run keys -- list | rotate | revoke KID`: server1's signing keys, against its data directory
// or its PostgreSQL database (DATABASE_URL), whether server1 is running or not (every running
// replica picks a rotation or a revocation up within a second, and only then sends the
// revocation's keys-changed events). Reads the same environment as server1 (DATA_DIR,
// DATABASE_URL, SIGNING_ALG, JWKS_MAX_AGE_SEC, CLIENTS, ...).
import { AppError, ConfigError, StoreUnavailableError } from '@jwt-handoff/shared';
import { loadConfig, timingInputOf } from '../config.js';
import { keysFromEnvironment } from '../keys/environment-keys.js';
import { type KeyDescription, KeyRing } from '../keys/key-ring.js';
import { rotationTiming } from '../keys/key-timeline.js';
import { RevocationRefusedError, revokeKey } from '../keys/revoke-key.js';
import { RotationRefusedError, rotateKeys } from '../keys/rotate-keys.js';
import { keysChangedDeliveries } from '../stores/logout-outbox.js';
import { openCliStores } from './cli-stores.js';

const USAGE = 'usage: npm run keys -- list | rotate | revoke KID';

async function main(command: string | undefined, args: readonly string[]): Promise<number> {
  const kid = args[0];
  const known =
    ((command === 'list' || command === 'rotate') && args.length === 0) ||
    (command === 'revoke' && args.length === 1 && kid !== undefined && kid.length > 0);
  if (!known) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig(process.env);
  const now = Date.now();
  if (config.signingKeys) {
    const ring = await KeyRing.fromKeys(
      await keysFromEnvironment(config.signingKeys, config.signingAlgorithm),
    );
    if (command !== 'list') {
      console.error(
        `keys come from the environment (SIGNING_KEY): ${command} them by redeploying (see docs/keys.md)`,
      );
      return 1;
    }
    printKeys(ring.describe(now), now);
    return 0;
  }
  const opened = await openCliStores(config);
  if (!opened.stores) {
    console.error(`keys: ${opened.reason}`);
    return 1;
  }
  const stores = opened.stores;
  try {
    const store = stores.keys;
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
    if (command === 'revoke') {
      const result = await revokeKey(store, kid as string, { algorithm: config.signingAlgorithm, now });
      // After the revocation is stored: an event sent for a key that still signed would make the
      // clients refuse a key server1 goes on using. A running server1 sends them once it has
      // reloaded its keys (within a second); a stopped one when it starts.
      const clientIds = config.clients
        .filter((client) => client.backchannelLogoutUri !== undefined)
        .map((client) => client.id);
      await stores.outbox.enqueue(
        keysChangedDeliveries(clientIds, [result.kid]),
        now,
        config.logoutDeliveryMaxAgeMs,
      );
      console.log(`key ${result.kid} is revoked: it left the JWKS and never signs again`);
      if (result.replacement)
        console.log(
          `key ${result.replacement.kid} signs from now on (${result.replacement.generated ? 'new' : 'the next key, brought forward'})`,
        );
      console.log(
        `keys-changed event queued for ${clientIds.length} client(s): ${clientIds.join(', ') || '-'}`,
      );
      console.log('');
    }
    const ring = await KeyRing.fromStore(store, config.signingAlgorithm, now, { generateFirstKey: false });
    printKeys(ring.describe(now), now);
    return 0;
  } finally {
    await stores.close();
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

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (err) => {
    if (
      err instanceof ConfigError ||
      err instanceof RotationRefusedError ||
      err instanceof RevocationRefusedError
    )
      console.error(`keys: ${err.message}`);
    else if (err instanceof AppError || err instanceof StoreUnavailableError)
      console.error(`keys: ${err.message} (DATABASE_URL)`);
    else console.error(err);
    process.exit(1);
  },
);
