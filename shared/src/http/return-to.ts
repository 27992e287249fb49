/** The longest `return_to` accepted, before and after normalisation, in characters. */
const MAX_LENGTH = 2048;

/**
 * Returns `value` when it is a path on this same service, else `fallback` (a path of the service,
 * `/` by default). This is what stops the handoff and the login form from becoming open redirects:
 * only a single leading slash is accepted (`//host` is scheme-relative), and no backslash (browsers
 * read `/\host` as `//host`), no scheme, no control characters. Percent-encoded forms stay encoded,
 * so a browser never sees them as anything but a path. The result is at most 2048 characters and
 * is returned unchanged when given again.
 */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return fallback;
  if (!value.startsWith('/') || value.startsWith('//')) return fallback;
  if (value.includes('\\') || hasControlCharacter(value)) return fallback;
  // Resolving against a dummy origin must not change the origin: catches anything the checks
  // above missed, such as a path that normalises into a host.
  const resolved = new URL(value, 'http://return-to.invalid');
  // Dot segments can normalise `/..//host` into `//host`, so the check is made again afterwards.
  if (resolved.origin !== 'http://return-to.invalid' || resolved.pathname.startsWith('//')) return fallback;
  const result = resolved.pathname + resolved.search + resolved.hash;
  // Percent-encoding can make a path grow up to twelve-fold (one emoji is 12 characters encoded).
  // The cap holds for the result too, so that what is stored (the state cookie, which browsers
  // keep only up to 4 KB) is small enough to keep and is given back unchanged when read again.
  return result.length > MAX_LENGTH ? fallback : result;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
