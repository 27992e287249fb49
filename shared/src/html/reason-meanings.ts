import type { ReasonCode } from '../errors.js';

/**
 * What each reason code means to the person in front of the browser, shown on the error page
 * under the message. The message says what happened to this request; this says why it matters
 * and what to do. One entry per code (the type makes a new code without one a compile error).
 */
export const REASON_MEANINGS: Readonly<Record<ReasonCode, string>> = Object.freeze({
  token_missing: 'The sign-in arrived without its token, so there is nothing to check.',
  token_malformed:
    'The sign-in token is not a well-formed JWT: it was damaged or altered on the way. Start again to get a new one.',
  token_too_large: 'The sign-in token is larger than any genuine one, so it was not even read.',
  unsupported_alg:
    'The token claims a signing algorithm this service does not accept. Only the configured algorithms are trusted, never the one a token names.',
  unknown_kid:
    'The token was signed with a key the identity service does not publish (or no longer publishes). Start again to get a token signed with a current key.',
  invalid_signature:
    'The signature does not match the token: it was not signed by the identity service, or was changed after signing.',
  invalid_type: 'This is a token of another kind (not a handoff token), so it cannot sign you in here.',
  invalid_issuer: 'The token was issued by another identity service than the one this service trusts.',
  invalid_audience: 'The token was issued for another service. Each token names the one service it is for.',
  token_expired:
    'The sign-in token lives for a few seconds only, and it expired before it arrived. Start again; it takes a moment.',
  token_not_yet_valid:
    "The token's time lies in the future: a clock is wrong, on this machine or the identity service's.",
  lifetime_too_long: 'The token asks to live longer than this service allows for a sign-in token.',
  token_replayed:
    'This sign-in token was already used. Each one works once, so a copied token is useless. Start again to sign in.',
  token_revoked: 'You signed out (here or everywhere) after this sign-in began. Start again to sign in.',
  jwks_unavailable:
    "The identity service's public keys could not be fetched, so no token can be checked right now. Try again in a moment.",
  state_mismatch:
    'This sign-in was started in another browser or tab, or its cookie has expired. Finishing it here could sign you in as someone else, so it is refused. Start again from this browser.',
  state_missing: 'The sign-in request came without its state value, which binds it to your browser.',
  txn_unknown:
    'The link that finishes a sign-in works once, for one minute. This one was used already or is older. Start again.',
  invalid_client: 'The service that sent you here is not registered with the identity service.',
  invalid_redirect_uri:
    'The address to return to is not registered for that service, so the identity service will not send a token there.',
  insufficient_scope: 'The token is genuine, but it does not grant access to this.',
  session_missing: 'You are not signed in here.',
  invalid_credentials: 'The username or password is not right.',
  csrf_failed:
    'The form was not sent from this site, or it is older than its security token. Reload the page and send it again.',
  rate_limited:
    'There were too many failed sign-ins, so signing in is paused for a while to stop password guessing.',
  login_busy: 'Many sign-ins are being checked at this moment. Try again in a second.',
  metrics_forbidden: 'Metrics are readable only on this host, or with the metrics token.',
  invalid_request: 'The request was not in the form this address expects.',
  unsupported_media_type: 'The form was sent in a format this address does not accept.',
  body_too_large: 'The request was larger than this service accepts.',
  not_found: 'There is no page at this address. Check the link, or go back to the start.',
  not_ready: 'The service is starting, or cannot reach a service it needs. Try again in a moment.',
  invalid_max_age: 'The sign-in request asked for a max_age that is not a whole number of seconds.',
  unsupported_prompt:
    'The sign-in request asked for a prompt this identity service does not offer (only "login").',
  auth_too_old:
    'This page needs a recent sign-in, and yours is older. Start again and enter your password once more.',
  discovery_unavailable:
    "The identity service's configuration document could not be fetched or does not name the expected issuer, so sign-in cannot start. Try again in a moment.",
  key_revoked:
    'The token was signed with a key the identity service has revoked, so it is no longer trusted. Start again to get a token signed with a current key.',
  invalid_post_logout_redirect_uri:
    'The address to return to after signing out is not registered for that service, so you are not sent there.',
  logout_hint_missing:
    'The sign-out request did not say which session it is for, so you are asked to confirm.',
  logout_hint_mismatch: 'The sign-out request names another session than yours, so you are asked to confirm.',
  store_unavailable:
    'The service cannot reach its database right now, so it refuses rather than guess. Try again in a moment.',
  internal_error: 'Something failed on our side. It has been logged; try again.',
});
