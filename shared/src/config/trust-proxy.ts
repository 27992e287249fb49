import { isIP } from 'node:net';
import type { EnvReader } from './env-reader.js';

/**
 * Whose `X-Forwarded-For` entries a service believes: nobody's (`false`), the nearest `n`
 * proxies' (a hop count), or those of the listed proxy addresses and CIDR ranges.
 */
export type TrustProxy = false | number | readonly string[];

/** The most proxies a hop count may name. */
export const TRUST_PROXY_MAX_HOPS = 10;

// The address ranges @fastify/proxy-addr knows by name.
const RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Reads `TRUST_PROXY` (or `name`): unset or `0` for no proxy, a hop count from 1 to
 * {@link TRUST_PROXY_MAX_HOPS}, or a comma-separated list of proxy addresses, CIDR ranges and
 * the names `loopback`, `linklocal`, `uniquelocal`. A bad value is recorded on `read`.
 */
export function readTrustProxy(read: EnvReader, name = 'TRUST_PROXY'): TrustProxy {
  const value = read.raw(name);
  if (value === undefined) return false;
  const word = value.toLowerCase();
  // `true` made fastify believe every X-Forwarded-For, so the client address was whatever the
  // client wrote at the left of its own header: a password spray with a new forged address per
  // attempt was never throttled. Say what to write instead rather than guess what was meant.
  if (word === 'true') {
    read.problem(
      name,
      `no longer takes "true", which believed any client's own X-Forwarded-For: set the number of proxies in front of the service (e.g. 1) or their addresses (e.g. 127.0.0.1,10.0.0.0/8)`,
    );
    return false;
  }
  if (word === 'false') {
    read.problem(name, 'no longer takes "false": leave it unset, or set it to 0, for no proxy');
    return false;
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops <= TRUST_PROXY_MAX_HOPS) return hops === 0 ? false : hops;
    read.problem(name, `must be a hop count from 0 to ${TRUST_PROXY_MAX_HOPS}, got "${value}"`);
    return false;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isProxyAddress(entry));
  if (bad.length > 0) {
    read.problem(
      name,
      `must be a hop count (e.g. 1) or a comma-separated list of proxy addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8); not an address: ${bad.map((entry) => `"${entry}"`).join(', ')}`,
    );
    return false;
  }
  return Object.freeze(entries);
}

/**
 * What fastify's `trustProxy` option is given for `trust`. fastify 5 treats a bare number as
 * "trust nobody" (it cannot check the nearest peer), so a hop count becomes the function that
 * trusts exactly the nearest `n` hops, as Express's hop count does; a list goes as fastify's
 * comma-separated string.
 */
export function fastifyTrustProxy(
  trust: TrustProxy,
): false | string | ((address: string, hop: number) => boolean) {
  if (trust === false || trust === 0) return false;
  // Safe only when nothing but the proxies can reach the service: a client that connects
  // directly is itself hop 0 and so chooses its address. docs/deployment.md says to prefer
  // addresses, which fastify checks against the connecting peer.
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust.join(',');
}

function isProxyAddress(entry: string): boolean {
  if (RANGE_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}
