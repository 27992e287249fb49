import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt parameters: N = 2^15, r = 8, p = 1 uses 32 MiB and roughly 50-100 ms per hash on
 * current servers, the OWASP recommendation for scrypt. Stored with each hash, so they can be
 * raised later without invalidating existing passwords.
 */
export const SCRYPT_DEFAULTS: ScryptParameters = Object.freeze({
  cost: 2 ** 15,
  blockSize: 8,
  parallelization: 1,
  keyLength: 32,
});

/** scrypt's cost (N), block size (r), parallelization (p) and output length in bytes. */
export interface ScryptParameters {
  cost: number;
  blockSize: number;
  parallelization: number;
  keyLength: number;
}

/** Hashes and checks passwords. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `stored`. Takes the same time whether or not it does. */
  verify(password: string, stored: string): Promise<boolean>;
  /** Spends the time of a verification, for unknown usernames: timing must not reveal them. */
  burn(password: string): Promise<void>;
}

/** A {@link PasswordHasher} on node:crypto's scrypt; format `scrypt$N$r$p$salt$hash` (base64url). */
export function createScryptHasher(parameters: ScryptParameters = SCRYPT_DEFAULTS): PasswordHasher {
  const hashWith = (password: string, salt: Buffer, params: ScryptParameters) =>
    new Promise<Buffer>((resolve, reject) => {
      const options: ScryptOptions = {
        N: params.cost,
        r: params.blockSize,
        p: params.parallelization,
        maxmem: 256 * params.cost * params.blockSize,
      };
      scrypt(password.normalize('NFKC'), salt, params.keyLength, options, (err, key) =>
        err ? reject(err) : resolve(key),
      );
    });
  const dummySalt = randomBytes(16);

  return {
    async hash(password) {
      const salt = randomBytes(16);
      const key = await hashWith(password, salt, parameters);
      const { cost, blockSize, parallelization } = parameters;
      return [
        'scrypt',
        cost,
        blockSize,
        parallelization,
        salt.toString('base64url'),
        key.toString('base64url'),
      ].join('$');
    },
    async verify(password, stored) {
      const parsed = parseHash(stored);
      if (!parsed) return false;
      const key = await hashWith(password, parsed.salt, parsed.params);
      return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
    },
    async burn(password) {
      await hashWith(password, dummySalt, parameters);
    },
  };
}

function parseHash(stored: string): { params: ScryptParameters; salt: Buffer; key: Buffer } | undefined {
  const [scheme, cost, blockSize, parallelization, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return undefined;
  const keyBytes = Buffer.from(key, 'base64url');
  return {
    params: {
      cost: Number(cost),
      blockSize: Number(blockSize),
      parallelization: Number(parallelization),
      keyLength: keyBytes.length,
    },
    salt: Buffer.from(salt, 'base64url'),
    key: keyBytes,
  };
}
