/** The HSTS policy of an https service: a year, its subdomains included (RFC 6797). */
export const HSTS_POLICY = 'max-age=31536000; includeSubDomains';

/**
 * The headers every response of a service at `publicUrl` carries, whatever answers it (a page,
 * JSON, the JWKS, a redirect, an error, a 404): `X-Content-Type-Options: nosniff`, so that no
 * browser reads a JSON or text body as HTML or script; and, when the service is public over
 * https, `Strict-Transport-Security`, so that a browser that has seen it once never again sends
 * a request (and its cookies) over plain http to this host or below it. Over plain http there is
 * nothing to pin, and browsers ignore HSTS sent that way anyway.
 *
 * Pages add their own headers (a Content-Security-Policy by hash, framing, referrer, caching)
 * in `sendPage`; none of them is set here, so nothing here can replace or loosen them.
 */
export function securityHeaders(publicUrl: string): Readonly<Record<string, string>> {
  const headers: Record<string, string> = { 'x-content-type-options': 'nosniff' };
  if (new URL(publicUrl).protocol === 'https:') headers['strict-transport-security'] = HSTS_POLICY;
  return Object.freeze(headers);
}
