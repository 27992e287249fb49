import { ConfigError, type SigningAlgorithm } from '@jwt-handoff/shared';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, importJWK, importPKCS8, type JWK } from 'jose';
import type { Server1Config } from '../config.js';
import type { StoredKey } from '../stores/key-store.js';

// A key that never reaches its signing time: published only.
const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * Turns SIGNING_KEY, SIGNING_KEY_NEXT and SIGNING_KEY_PREVIOUS into key-ring entries, for
 * deployments that keep keys in a secret store. SIGNING_KEY signs; the other two are published
 * only, so rotation is the same timeline done by redeploying: publish the new key as NEXT, after
 * the publish lead make it SIGNING_KEY and the old one PREVIOUS, drop PREVIOUS after the
 * retention time. Each value is a PKCS#8 PEM (taken as `algorithm`) or a private JWK (its `alg`).
 */
export async function keysFromEnvironment(
  keys: NonNullable<Server1Config['signingKeys']>,
  algorithm: SigningAlgorithm,
): Promise<StoredKey[]> {
  const entries: Array<[string, string | undefined, Pick<StoredKey, 'signFrom' | 'retireAt'>]> = [
    ['SIGNING_KEY_PREVIOUS', keys.previous, { signFrom: 0, retireAt: 0 }],
    ['SIGNING_KEY', keys.current, { signFrom: 0, retireAt: null }],
    ['SIGNING_KEY_NEXT', keys.next, { signFrom: NEVER, retireAt: null }],
  ];
  const out: StoredKey[] = [];
  for (const [name, value, timeline] of entries) {
    if (value === undefined) continue;
    const { alg, privateJwk, publicJwk, kid } = await importOne(name, value, algorithm);
    if (out.some((key) => key.kid === kid)) {
      throw new ConfigError([`${name} holds the same key as another SIGNING_KEY variable`]);
    }
    out.push({ kid, alg, privateJwk, publicJwk, createdAt: 0, publishAt: 0, unpublishAt: null, ...timeline });
  }
  return out;
}

async function importOne(name: string, value: string, fallbackAlg: SigningAlgorithm) {
  try {
    let alg: string = fallbackAlg;
    let key: CryptoKey;
    if (value.startsWith('-----BEGIN')) {
      key = (await importPKCS8(value, alg, { extractable: true })) as CryptoKey;
    } else {
      const jwk = parseJson(value);
      if (typeof jwk.d !== 'string') throw new Error('the JWK has no private part (d)');
      alg = jwk.alg ?? fallbackAlg;
      key = (await importJWK(jwk, alg, { extractable: true })) as CryptoKey;
    }
    if (alg !== 'EdDSA' && alg !== 'ES256')
      throw new Error(`algorithm ${alg} is not allowed (EdDSA or ES256)`);
    const privateMembers = await exportJWK(key);
    const { d: _secret, ...publicPart } = privateMembers;
    const kid = await calculateJwkThumbprint(publicPart, 'sha256');
    return {
      kid,
      alg,
      privateJwk: { ...privateMembers, kid, alg, use: 'sig' },
      publicJwk: { ...publicPart, kid, alg, use: 'sig' },
    };
  } catch (err) {
    throw new ConfigError([`${name} is not a usable private key: ${(err as Error).message}`]);
  }
}

// JSON.parse's own message quotes the text around the error (`Unexpected token 'W', ..."d":
// nWGxne_9WmC"...`): passed on, it put part of the private key into the startup error and so into
// the logs. None of the value is repeated.
function parseJson(value: string): JWK {
  try {
    return JSON.parse(value) as JWK;
  } catch {
    throw new Error('it is not valid JSON');
  }
}
