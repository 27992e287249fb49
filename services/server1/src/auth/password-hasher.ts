import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt parameters: N = 2^17, r = 8, p = 1, OWASP's minimum for scrypt (Password Storage Cheat
 * Sheet). Each hash takes 128 MiB and roughly 150-700 ms of one core, depending on the machine;
 * LOGIN_MAX_CONCURRENT_HASHES bounds how many run at once. Stored with each hash, so they can be
 * raised without invalidating existing passwords: a hash made with lower ones is replaced at its
 * owner's next sign-in.
 */
export const SCRYPT_DEFAULTS: ScryptParameters = Object.freeze({
  cost: 2 ** 17,
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
  /** True when `stored` was made with weaker parameters than this hasher's: hash it again. */
  needsRehash(stored: string): boolean;
}

// The most memory one hash may take (1 GiB). A stored hash asking for more is refused rather than
// allowed to exhaust the process; a hasher configured beyond it does not start.
const MAX_SCRYPT_MEMORY_BYTES = 2 ** 30;

/**
 * The memory scrypt needs, which OpenSSL checks against `maxmem`: 128·r·(N + p + 2) bytes. Node's
 * default maxmem is 32 MiB, below N = 2^17's 128 MiB, so it is always passed explicitly.
 */
function scryptMemoryBytes(params: ScryptParameters): number {
  return 128 * params.blockSize * (params.cost + params.parallelization + 2);
}

function parameterProblem(params: ScryptParameters): string | undefined {
  const { cost, blockSize, parallelization, keyLength } = params;
  const within = (value: number, min: number, max: number) =>
    Number.isSafeInteger(value) && value >= min && value <= max;
  if (!within(cost, 2, 2 ** 30) || (cost & (cost - 1)) !== 0) return 'cost (N) must be a power of 2';
  if (!within(blockSize, 1, 64)) return 'blockSize (r) must be 1-64';
  if (!within(parallelization, 1, 16)) return 'parallelization (p) must be 1-16';
  if (!within(keyLength, 16, 64)) return 'keyLength must be 16-64';
  if (scryptMemoryBytes(params) > MAX_SCRYPT_MEMORY_BYTES) return 'the parameters need more than 1 GiB';
  return undefined;
}

/** A {@link PasswordHasher} on node:crypto's scrypt; format `scrypt$N$r$p$salt$hash` (base64url). */
export function createScryptHasher(parameters: ScryptParameters = SCRYPT_DEFAULTS): PasswordHasher {
  const problem = parameterProblem(parameters);
  if (problem) throw new Error(`scrypt parameters: ${problem}`);
  const hashWith = (password: string, salt: Buffer, params: ScryptParameters) =>
    new Promise<Buffer>((resolve, reject) => {
      const options: ScryptOptions = {
        N: params.cost,
        r: params.blockSize,
        p: params.parallelization,
        maxmem: scryptMemoryBytes(params),
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
    needsRehash(stored) {
      const parsed = parseHash(stored);
      if (!parsed) return false;
      const { params } = parsed;
      return (
        params.cost < parameters.cost ||
        params.blockSize < parameters.blockSize ||
        params.parallelization < parameters.parallelization ||
        params.keyLength < parameters.keyLength
      );
    },
  };
}

function parseHash(stored: string): { params: ScryptParameters; salt: Buffer; key: Buffer } | undefined {
  const [scheme, cost, blockSize, parallelization, salt, key, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key || rest.length > 0) return undefined;
  const keyBytes = Buffer.from(key, 'base64url');
  const params = {
    cost: Number(cost),
    blockSize: Number(blockSize),
    parallelization: Number(parallelization),
    keyLength: keyBytes.length,
  };
  // A damaged row must not crash the sign-in or ask scrypt for gigabytes: it matches nothing.
  if (parameterProblem(params)) return undefined;
  return { params, salt: Buffer.from(salt, 'base64url'), key: keyBytes };
}
