import {
  DISCOVERY_PATH,
  type DiscoveryDocument,
  HANDOFF_PROFILE,
  LOGOUT_PROFILE,
  OPENID_CONFIGURATION_PATH,
  SERVICE_PROFILE,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server1Config } from '../config.js';
import { cacheableDocument, sendCacheable } from '../http/cacheable-document.js';
import type { Server1Metrics } from '../metrics.js';
import { SUPPORTED_PROMPTS } from './authorize-request.js';

// The claims of a handoff token (docs/design.md section 3).
const HANDOFF_CLAIMS = Object.freeze([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'jti',
  'nonce',
  'auth_time',
  'sid',
  'name',
  'email',
]);

/** What the discovery routes use. */
export interface DiscoveryRouteOptions {
  /** The issuer (`publicUrl`), the signing algorithm, the token lifetimes, and the cache lifetime. */
  config: Pick<
    Server1Config,
    | 'publicUrl'
    | 'signingAlgorithm'
    | 'handoffTokenTtlSec'
    | 'serviceTokenTtlSec'
    | 'logoutTokenTtlSec'
    | 'jwksMaxAgeSec'
  >;
  /**
   * The path of the end-session endpoint (RP-initiated logout), published as
   * `end_session_endpoint`; left out of the document while server1 has none.
   */
  endSessionPath?: string;
  metrics: Pick<Server1Metrics, 'discoveryServed'>;
}

/** The discovery document of this configuration (docs/design.md, "Discovery"). */
export function discoveryDocument(
  config: DiscoveryRouteOptions['config'],
  endSessionPath?: string,
): DiscoveryDocument {
  const issuer = config.publicUrl;
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    authorization_endpoint: `${issuer}/handoff/authorize`,
    ...(endSessionPath === undefined ? {} : { end_session_endpoint: `${issuer}${endSessionPath}` }),
    // The handoff token plays the ID token's part, posted to the redirect_uri by a form: OIDC's
    // `response_type=id_token` with `response_mode=form_post` is the nearest description.
    response_types_supported: ['id_token'],
    response_modes_supported: ['form_post'],
    subject_types_supported: ['public'],
    // New keys are made for this algorithm; verifiers take theirs from their own configuration.
    id_token_signing_alg_values_supported: [config.signingAlgorithm],
    claims_supported: HANDOFF_CLAIMS,
    prompt_values_supported: SUPPORTED_PROMPTS,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    token_kinds: {
      handoff: tokenKind(HANDOFF_PROFILE, config.handoffTokenTtlSec),
      service: tokenKind(SERVICE_PROFILE, config.serviceTokenTtlSec),
      logout: tokenKind(LOGOUT_PROFILE, config.logoutTokenTtlSec),
    },
  };
}

function tokenKind(profile: { typ: string; maxLifetimeSec: number }, lifetimeSec: number) {
  return { typ: profile.typ, lifetime_sec: lifetimeSec, max_lifetime_sec: profile.maxLifetimeSec };
}

/**
 * GET /.well-known/jwt-handoff-configuration and GET /.well-known/openid-configuration: the same
 * document, cached like the JWKS (the same max-age, a strong ETag, 304 on If-None-Match). It only
 * changes with the configuration, so it is built once.
 */
export async function discoveryRoutes(app: FastifyInstance, options: DiscoveryRouteOptions): Promise<void> {
  const { config, metrics } = options;
  const document = cacheableDocument(JSON.stringify(discoveryDocument(config, options.endSessionPath)));
  for (const path of [DISCOVERY_PATH, OPENID_CONFIGURATION_PATH]) {
    app.get(path, async (request, reply) => {
      metrics.discoveryServed({ status: sendCacheable(request, reply, document, config.jwksMaxAgeSec) });
      return reply;
    });
  }
}
