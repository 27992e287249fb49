/**
 * The issuer's discovery document (docs/design.md, "Discovery"): what a relying service needs to
 * know about server1, under the names of OpenID Connect Discovery 1.0 where one exists, so that
 * the same document also reads as `/.well-known/openid-configuration`.
 */

/** Where server1 serves the document; both paths serve the same one. */
export const DISCOVERY_PATH = '/.well-known/jwt-handoff-configuration';
/** The OpenID Connect Discovery path, for tools that only know that one. */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';

/** One token kind of docs/design.md section 3, as the document describes it (an extension field). */
export interface DiscoveredTokenKind {
  /** The header `typ` its verifier accepts, and only that one. */
  readonly typ: string;
  /** The lifetime (exp - iat) the issuer mints, in seconds. */
  readonly lifetime_sec: number;
  /** The largest lifetime any verifier accepts for this kind, in seconds. */
  readonly max_lifetime_sec: number;
}

/** The document's fields. Only `issuer`, `jwks_uri` and `authorization_endpoint` are relied on. */
export interface DiscoveryDocument {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly authorization_endpoint: string;
  /** Present once server1 has an end-session endpoint (RP-initiated logout). */
  readonly end_session_endpoint?: string;
  readonly response_types_supported: readonly string[];
  readonly response_modes_supported: readonly string[];
  readonly subject_types_supported: readonly string[];
  readonly id_token_signing_alg_values_supported: readonly string[];
  readonly claims_supported: readonly string[];
  readonly prompt_values_supported: readonly string[];
  readonly backchannel_logout_supported: boolean;
  readonly backchannel_logout_session_supported: boolean;
  /** Extension: every token kind the issuer mints, by name (`handoff`, `service`, `logout`). */
  readonly token_kinds: Readonly<Record<string, DiscoveredTokenKind>>;
}

/** The discovery URL of an issuer (its public URL without a trailing slash). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${DISCOVERY_PATH}`;
}

/** What a relying service takes from a fetched document, once checked. */
export interface DiscoveredEndpoints {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly authorizationEndpoint: string;
  readonly endSessionEndpoint: string | undefined;
}

/** Thrown by {@link readDiscoveryDocument} for a document that must not be used. */
export class InvalidDiscoveryDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDiscoveryDocumentError';
  }
}

/**
 * Checks a fetched document and takes its endpoints. The `issuer` must equal the configured one
 * exactly, as OpenID Connect Discovery 1.0 section 4.3 requires: a document that names another
 * issuer was served by, or for, someone else, and trusting its `jwks_uri` would let that party
 * choose the keys we accept. Endpoints must be absolute http(s) URLs; an https issuer's must be
 * https too, so that a document fetched safely cannot downgrade the key fetch.
 */
export function readDiscoveryDocument(value: unknown, expectedIssuer: string): DiscoveredEndpoints {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidDiscoveryDocumentError('the discovery document is not a JSON object');
  const document = value as Record<string, unknown>;
  if (document.issuer !== expectedIssuer) {
    throw new InvalidDiscoveryDocumentError(
      `the discovery document names the issuer ${JSON.stringify(document.issuer)}, not the configured ${JSON.stringify(expectedIssuer)}`,
    );
  }
  const https = new URL(expectedIssuer).protocol === 'https:';
  const endpoint = (name: string, required: boolean): string | undefined => {
    const field = document[name];
    if (field === undefined && !required) return undefined;
    if (typeof field === 'string') {
      try {
        const url = new URL(field);
        if (url.protocol === 'https:' || (!https && url.protocol === 'http:')) return url.href;
      } catch {
        // reported below
      }
    }
    throw new InvalidDiscoveryDocumentError(
      `the discovery document's ${name} must be an absolute ${https ? 'https' : 'http(s)'} URL`,
    );
  };
  return {
    issuer: expectedIssuer,
    jwksUri: endpoint('jwks_uri', true) as string,
    authorizationEndpoint: endpoint('authorization_endpoint', true) as string,
    endSessionEndpoint: endpoint('end_session_endpoint', false),
  };
}
