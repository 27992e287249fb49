import { rootCertificates } from 'node:tls';

/**
 * The undici `connect` options under which outbound https calls (the JWKS fetch, service calls,
 * back-channel logout) trust the PEM certificates `ca` (TLS_CA_FILE, config/tls-files.ts) as
 * well as Node's default roots; none when `ca` is undefined, so the defaults apply unchanged.
 */
export function trustedCaConnectOptions(ca: readonly string[] | undefined): { ca?: string[] } {
  // Node's `ca` replaces the default roots instead of adding to them, so they are listed too: a
  // private CA for the services' own hosts must not stop a publicly certified one verifying.
  return ca === undefined ? {} : { ca: [...rootCertificates, ...ca] };
}
