import { parseSetCookie } from './set-cookie.js';

/**
 * What a jar takes from one response: the URL the request went to and the Set-Cookie headers
 * that came back. A real fetch gives `{ url, setCookies: response.headers.getSetCookie() }`; an
 * inject response gives `{ url, setCookies: setCookieHeaders(response.headers) }`.
 */
export interface CookieResponse {
  /** The request URL: absolute, or a path resolved against the jar's base URL. */
  readonly url: string;
  readonly setCookies: readonly string[];
}

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  /** Epoch ms after which a browser forgets it; undefined for a session cookie. */
  readonly expiresAt: number | undefined;
}

/**
 * The cookie store of one browser. It keeps each cookie under its host, name and Path; sends it
 * only to matching paths (RFC 6265 section 5.1.4), the longest path first; and forgets it on
 * `Max-Age=0`, an `Expires` in the past, or once its lifetime has run out (by real time).
 *
 * Like a browser, it keys cookies by host name only, not by port: on localhost both services see
 * each other's cookies, which is exactly why their cookie names differ (docs/design.md section 5), and
 * a test must see that too. Domain, Secure and SameSite are not modelled: every request a test
 * sends through a jar is a same-site, top-level one.
 */
export class CookieJar {
  private readonly hosts = new Map<string, Map<string, StoredCookie>>();

  /**
   * @param baseUrl what a relative request URL (an inject path) is resolved against; its host is
   *   also the one {@link get} and {@link set} work on.
   */
  constructor(private readonly baseUrl = 'http://localhost/') {}

  /** Applies the Set-Cookie headers of one response. */
  store(response: CookieResponse): void {
    const url = this.resolve(response.url);
    const cookies = this.cookiesOf(url.hostname);
    for (const header of response.setCookies) {
      const { name, value, attributes } = parseSetCookie(header);
      const pathAttribute = attributes.path;
      const path =
        typeof pathAttribute === 'string' && pathAttribute.startsWith('/')
          ? pathAttribute
          : defaultPath(url.pathname);
      const id = `${name}\u0000${path}`;
      const expiresAt = expiryOf(attributes['max-age'], attributes.expires);
      if (expiresAt !== undefined && expiresAt <= Date.now()) cookies.delete(id);
      else cookies.set(id, { name, value, path, expiresAt });
    }
  }

  /** The `Cookie` header a browser sends to `url`, or undefined when no cookie matches. */
  header(url: string): string | undefined {
    const { hostname, pathname } = this.resolve(url);
    const matching = this.live(hostname)
      .filter((cookie) => pathMatches(pathname, cookie.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The value of cookie `name` on the base URL's host (any path), as stored. */
  get(name: string): string | undefined {
    return this.live(this.resolve('/').hostname).find((cookie) => cookie.name === name)?.value;
  }

  /** Stores a cookie on the base URL's host as if a response had set it: one a test plants. */
  set(name: string, value: string, path = '/'): void {
    this.cookiesOf(this.resolve('/').hostname).set(`${name}\u0000${path}`, {
      name,
      value,
      path,
      expiresAt: undefined,
    });
  }

  private resolve(url: string): URL {
    return new URL(url, this.baseUrl);
  }

  private cookiesOf(host: string): Map<string, StoredCookie> {
    let cookies = this.hosts.get(host);
    if (!cookies) {
      cookies = new Map();
      this.hosts.set(host, cookies);
    }
    return cookies;
  }

  private live(host: string): StoredCookie[] {
    const now = Date.now();
    return [...this.cookiesOf(host).values()].filter(
      (cookie) => cookie.expiresAt === undefined || cookie.expiresAt > now,
    );
  }
}

/** When a cookie expires: Max-Age wins over Expires (RFC 6265 section 5.3, step 3). */
function expiryOf(maxAge: string | true | undefined, expires: string | true | undefined): number | undefined {
  if (typeof maxAge === 'string' && /^-?\d+$/.test(maxAge)) {
    const seconds = Number(maxAge);
    return seconds <= 0 ? Number.NEGATIVE_INFINITY : Date.now() + seconds * 1000;
  }
  const at = typeof expires === 'string' ? Date.parse(expires) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
}

/** The default-path of RFC 6265 section 5.1.4: the request path up to its last slash. */
function defaultPath(requestPath: string): string {
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
