import type { JWTVerifyGetKey } from 'jose';
import type { JwksClient } from '../keys/jwks-client.js';
import type { KeySource } from '../keys/key-source.js';
import type { DiscoveryClient } from './discovery-client.js';

/** The issuer's keys at the `jwks_uri` its discovery document names. */
export interface DiscoveredKeySource extends KeySource {
  /** Starts the JWKS client of the URL known so far (and each later one) in the background. */
  start(): void;
  /** Closes the current JWKS client. */
  close(): Promise<void>;
  /**
   * Points the keys at `jwksUri`, once: the first URL makes the JWKS client. A later, different
   * one is reported through `onUriChange` and not followed (its keys' metrics and cache belong to
   * the first client); it takes effect at the next start.
   */
  use(jwksUri: string): void;
}

/**
 * A {@link KeySource} over a JWKS client made for the discovered `jwks_uri`. Until the first
 * document arrives, getKey waits for the discovery fetch (or fails with the discovery client's
 * error, which the verifier answers as `jwks_unavailable`).
 */
export function createDiscoveredKeySource(
  discovery: Pick<DiscoveryClient, 'endpoints'>,
  makeJwksClient: (jwksUri: string) => JwksClient,
  onUriChange: (from: string, to: string) => void = () => {},
): DiscoveredKeySource {
  let client: JwksClient | undefined;
  let clientUri: string | undefined;
  let started = false;

  function use(jwksUri: string): JwksClient {
    if (client && clientUri !== undefined) {
      if (clientUri !== jwksUri) onUriChange(clientUri, jwksUri);
      return client;
    }
    client = makeJwksClient(jwksUri);
    clientUri = jwksUri;
    if (started) client.start();
    return client;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const current = client ?? use((await discovery.endpoints()).jwksUri);
    return current.getKey(header, token);
  };

  return {
    getKey,
    isReady: () => client?.isReady() ?? false,
    hasKid: (kid) => client?.hasKid(kid) ?? false,
    async refresh() {
      await use((await discovery.endpoints()).jwksUri).refresh();
    },
    use(jwksUri) {
      use(jwksUri);
    },
    start() {
      started = true;
      client?.start();
    },
    async close() {
      started = false;
      await client?.close();
    },
  };
}
