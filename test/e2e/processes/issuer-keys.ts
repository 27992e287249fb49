import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { type CryptoKey, importJWK, type JWK, SignJWT } from 'jose';

/**
 * A test-only signing path: reads server1's signing keys straight out of its database, so a test
 * can mint tokens the real issuer would have minted while that issuer is stopped.
 */
export async function issuerKeys(
  dataDir: string,
): Promise<Array<{ kid: string; alg: string; key: CryptoKey }>> {
  const db = new Database(join(dataDir, 'server1.sqlite'), { readonly: true });
  try {
    const rows = db
      .prepare('SELECT kid, alg, private_jwk FROM signing_keys ORDER BY sign_from')
      .all() as Array<{
      kid: string;
      alg: string;
      private_jwk: string;
    }>;
    return Promise.all(
      rows.map(async (row) => ({
        kid: row.kid,
        alg: row.alg,
        key: (await importJWK(JSON.parse(row.private_jwk) as JWK, row.alg)) as CryptoKey,
      })),
    );
  } finally {
    db.close();
  }
}

/** A `service+jwt` for server2's activity API, signed with `signer`. */
export function serviceToken(
  signer: { kid: string; alg: string; key: CryptoKey },
  issuer: string,
  ttlSec = 60,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'activity:read' })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'service+jwt' })
    .setIssuer(issuer)
    .setSubject('server1')
    .setAudience('server2')
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSec)
    .setJti(randomUUID())
    .sign(signer.key);
}

const run = promisify(execFile);

/** Runs `npm run keys -- <command>` (the compiled CLI) against a server1's environment. */
export async function keysCommand(env: Readonly<Record<string, string>>, command: 'list' | 'rotate') {
  const cli = new URL('./cli/keys.js', import.meta.resolve('@jwt-handoff/server1'));
  return run(process.execPath, [cli.pathname, command], { env: { PATH: process.env.PATH ?? '', ...env } });
}
