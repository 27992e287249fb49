/** The foreign host every payload tries to reach. It is never contacted: redirects are only read. */
export const EVIL_HOST = 'evil.example';
const EVIL = EVIL_HOST;

/**
 * Values of `return_to` (as the server receives them, after one URL decoding) that try to turn a
 * same-site return path into a redirect to another host: scheme-relative and backslash forms,
 * schemes with and without slashes, user-info tricks, percent-encoded and double-encoded
 * slashes, dot segments that normalise into `//host`, tabs and newlines that browsers strip,
 * Unicode slashes and dots, and script URLs. From the OWASP Unvalidated Redirects cheat sheet and
 * the PortSwigger open-redirect lists; `target` is the service's own base URL.
 */
export function offSitePayloads(target: string): string[] {
  const { origin, host } = new URL(target);
  return [
    `//${EVIL}`,
    `//${EVIL}/`,
    `///${EVIL}`,
    `////${EVIL}/`,
    `/\\${EVIL}`,
    `\\/${EVIL}`,
    `\\\\${EVIL}`,
    `/\\/${EVIL}`,
    `\\/\\/${EVIL}`,
    `https://${EVIL}`,
    `http://${EVIL}/`,
    `https:${EVIL}`,
    `https:/${EVIL}`,
    `https:///${EVIL}`,
    `//${EVIL}@${host}`,
    `//${host}@${EVIL}`,
    `${origin}@${EVIL}`,
    `${origin}.${EVIL}`,
    `/%2F${EVIL}`,
    `%2F%2F${EVIL}`,
    `/%5C${EVIL}`,
    `%5C%5C${EVIL}`,
    `%252F%252F${EVIL}`,
    `/%2e%2e//${EVIL}`,
    `/..//${EVIL}`,
    `/./..//${EVIL}/`,
    `/\t/${EVIL}`,
    `/\n/${EVIL}`,
    `/\r\n/${EVIL}`,
    ` //${EVIL}`,
    `\t//${EVIL}`,
    `/\u0000//${EVIL}`,
    `/\u2215${EVIL}`,
    `/\uff0f${EVIL}`,
    `\uff0f\uff0f${EVIL}`,
    `/\u2044/${EVIL}`,
    `//evil\u3002example`,
    `//%65vil.example`,
    `javascript:alert(document.domain)`,
    `JaVaScRiPt:alert(1)`,
    `data:text/html,<script>alert(1)</script>`,
  ];
}

/**
 * Values of `redirect_uri` that are not, character for character, the registered callback
 * (`callback`): every off-site payload, and near misses of the callback itself (a trailing
 * slash, query or fragment, path tricks, case, whitespace, another scheme or host spelling,
 * user-info), each of which a prefix or normalising comparison would let through.
 */
export function redirectUriPayloads(callback: string): string[] {
  const url = new URL(callback);
  const { protocol, host, pathname } = url;
  const otherScheme = protocol === 'http:' ? 'https:' : 'http:';
  const otherHost = url.hostname === 'localhost' ? `127.0.0.1:${url.port}` : `localhost:${url.port}`;
  return [
    ...offSitePayloads(callback),
    `${callback}/`,
    `${callback}?next=//${EVIL}`,
    `${callback}#${EVIL}`,
    `${callback}/../../${EVIL}`,
    `${callback}%2F..%2F..%2F${EVIL}`,
    `${callback} `,
    `${callback}\t`,
    `${callback}\n`,
    callback.toUpperCase(),
    `${protocol}//${host}${pathname.toUpperCase()}`,
    `${otherScheme}//${host}${pathname}`,
    `${protocol}//${otherHost}${pathname}`,
    `${protocol}//${host}.${EVIL}${pathname}`,
    `${protocol}//${host}@${EVIL}${pathname}`,
    `${protocol}//${EVIL}@${host}${pathname}`,
    `${protocol}//${EVIL}\\@${host}${pathname}`,
    `//${host}${pathname}`,
    pathname,
    '',
  ];
}
