/** One Set-Cookie header, parsed; attribute names in lower case, flags as `true`. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly attributes: Readonly<Record<string, string | true>>;
}

/** Parses one Set-Cookie header. */
export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...parts] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    const at = part.indexOf('=');
    if (at === -1) attributes[part.trim().toLowerCase()] = true;
    else attributes[part.slice(0, at).trim().toLowerCase()] = part.slice(at + 1).trim();
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** Whether a Set-Cookie deletes its cookie (Max-Age 0 or an Expires in the past). */
export function isDeletion(cookie: SetCookie): boolean {
  const maxAge = cookie.attributes['max-age'];
  if (typeof maxAge === 'string' && /^-?\d+$/.test(maxAge)) return Number(maxAge) <= 0;
  const expires = cookie.attributes.expires;
  return typeof expires === 'string' && Date.parse(expires) <= Date.now();
}

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
}

/**
 * A browser's cookie store, enough for the handoff: cookies kept per host name (browsers do not
 * separate cookies by port, so on localhost both services see each other's), by name and Path,
 * sent to matching paths, forgotten on deletion. Session lifetimes are not modelled: a run is short.
 */
export class CookieJar {
  private readonly hosts = new Map<string, Map<string, StoredCookie>>();

  store(url: string, setCookies: readonly string[]): void {
    const { hostname, pathname } = new URL(url);
    const cookies = this.cookiesOf(hostname);
    for (const header of setCookies) {
      const cookie = parseSetCookie(header);
      const pathAttribute = cookie.attributes.path;
      const path =
        typeof pathAttribute === 'string' && pathAttribute.startsWith('/')
          ? pathAttribute
          : defaultPath(pathname);
      const key = `${cookie.name}\u0000${path}`;
      if (isDeletion(cookie)) cookies.delete(key);
      else cookies.set(key, { name: cookie.name, value: cookie.value, path });
    }
  }

  /** The Cookie header a browser sends to `url`, or undefined. */
  header(url: string): string | undefined {
    const { hostname, pathname } = new URL(url);
    const matching = [...this.cookiesOf(hostname).values()]
      .filter((cookie) => pathMatches(pathname, cookie.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The value of cookie `name` on `url`'s host (any path). */
  get(url: string, name: string): string | undefined {
    return [...this.cookiesOf(new URL(url).hostname).values()].find((cookie) => cookie.name === name)?.value;
  }

  /** Plants a cookie, as an attacker who can write cookies for the host would. */
  set(url: string, name: string, value: string, path = '/'): void {
    this.cookiesOf(new URL(url).hostname).set(`${name}\u0000${path}`, { name, value, path });
  }

  private cookiesOf(host: string): Map<string, StoredCookie> {
    let cookies = this.hosts.get(host);
    if (!cookies) {
      cookies = new Map();
      this.hosts.set(host, cookies);
    }
    return cookies;
  }
}

function defaultPath(requestPath: string): string {
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
