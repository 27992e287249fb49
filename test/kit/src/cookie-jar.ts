interface StoredCookie {
  value: string;
  path: string;
  expiresAt: number | undefined;
}

/**
 * A small browser-like cookie jar. Like a browser, it keys cookies by host name only, not by
 * port: on localhost both services see each other's cookies, which is exactly why their cookie
 * names differ (DESIGN.md section 5), and a test must see that too.
 */
export class CookieJar {
  private readonly hosts = new Map<string, Map<string, StoredCookie>>();

  /** Stores the Set-Cookie headers of a response to `url`. */
  store(url: string, setCookies: readonly string[]): void {
    const host = new URL(url).hostname;
    let cookies = this.hosts.get(host);
    if (!cookies) {
      cookies = new Map();
      this.hosts.set(host, cookies);
    }
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expiresAt: number | undefined;
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((part) => part.trim());
        if (key.toLowerCase() === 'path') path = val;
        if (key.toLowerCase() === 'max-age') expiresAt = Date.now() + Number(val) * 1000;
      }
      if (expiresAt !== undefined && expiresAt <= Date.now()) cookies.delete(name);
      else cookies.set(name, { value, path, expiresAt });
    }
  }

  /** The Cookie header a browser would send to `url`, or undefined when none applies. */
  header(url: string): string | undefined {
    const { hostname, pathname } = new URL(url);
    const cookies = this.hosts.get(hostname);
    if (!cookies) return undefined;
    const pairs: string[] = [];
    for (const [name, cookie] of cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) continue;
      if (
        pathname === cookie.path ||
        pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`)
      ) {
        pairs.push(`${name}=${cookie.value}`);
      }
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }

  /** One cookie's value for a host, or undefined. */
  get(host: string, name: string): string | undefined {
    return this.hosts.get(host)?.get(name)?.value;
  }

  /** Sets a cookie by hand (Path=/), as an attacker or another tab might. */
  set(host: string, name: string, value: string, path = '/'): void {
    this.store(`http://${host}/`, [`${name}=${value}; Path=${path}`]);
  }
}
