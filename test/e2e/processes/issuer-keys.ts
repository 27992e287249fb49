import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { mintToken, type TestKey } from '@jwt-handoff/testkit';
import Database from 'better-sqlite3';
import { type CryptoKey, importJWK, type JWK } from 'jose';

/** A key that signs tokens: one of server1's, or an attacker's. */
export type Signer = Pick<TestKey, 'alg' | 'kid' | 'privateKey'>;

/**
 * A test-only signing path: reads server1's signing keys straight out of its database, so a test
 * can mint tokens the real issuer would have minted while that issuer is stopped.
 */
export async function issuerKeys(dataDir: string): Promise<Signer[]> {
  const db = new Database(join(dataDir, 'server1.sqlite'), { readonly: true });
  try {
    const rows = db
      .prepare('SELECT kid, alg, private_jwk FROM signing_keys ORDER BY sign_from')
      .all() as Array<{
      kid: string;
      alg: TestKey['alg'];
      private_jwk: string;
    }>;
    return Promise.all(
      rows.map(async (row) => ({
        kid: row.kid,
        alg: row.alg,
        privateKey: (await importJWK(JSON.parse(row.private_jwk) as JWK, row.alg)) as CryptoKey,
      })),
    );
  } finally {
    db.close();
  }
}

/** A `service+jwt` for server2's activity API, issued now by `issuer`, signed with `signer`. */
export function serviceToken(signer: Signer, issuer: string, ttlSec = 60): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return mintToken(
    signer,
    {
      scope: 'activity:read',
      iss: issuer,
      sub: 'server1',
      aud: 'server2',
      iat,
      exp: iat + ttlSec,
      jti: randomUUID(),
    },
    'service+jwt',
  );
}
