import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';

/** Options of {@link testAgent}. */
export interface TestAgentOptions {
  /** CA certificate files (PEM) trusted besides Node's default roots. */
  caFiles?: readonly string[];
  /** Host names answered without DNS, e.g. `{ 'id.localtest': '127.0.0.1' }`: no /etc/hosts edit. */
  hosts?: Readonly<Record<string, string>>;
  /** The local address connections come from, e.g. 127.0.0.2 to be another client on loopback. */
  localAddress?: string;
}

/**
 * An undici Agent for a test client (a {@link Browser}'s `dispatcher`): trusts the given CAs,
 * resolves the given host names itself, and connects from a chosen local address. The URL's
 * host name stays what it is, so SNI and the certificate check see the real name.
 */
export function testAgent(options: TestAgentOptions): Agent {
  const hosts = options.hosts ?? {};
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const address = hosts[hostname];
    if (address === undefined) {
      dnsLookup(hostname, lookupOptions, callback as never);
      return;
    }
    const family = address.includes(':') ? 6 : 4;
    // net.connect asks for every address (`all`) when it may try several (autoSelectFamily).
    if (lookupOptions.all)
      (callback as (err: null, addresses: LookupAddress[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const ca = options.caFiles?.map((file) => readFileSync(file, 'utf8'));
  return new Agent({
    connect: { lookup, ...(ca ? { ca: [...rootCertificates, ...ca] } : {}) },
    // A Client option: undici's connector overrides connect.localAddress with it.
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
}
