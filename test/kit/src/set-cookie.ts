/** One `Set-Cookie` header, parsed; attribute names in lower case, flags as `true`. */
export interface SetCookie {
  readonly name: string;
  /** The value exactly as sent (still percent-encoded), as a browser stores it. */
  readonly value: string;
  readonly attributes: Readonly<Record<string, string | true>>;
}

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

/**
 * The raw Set-Cookie headers of a response: from fetch's `Headers`, or from the headers object of
 * an inject (or node:http) response, where there may be one, several or none.
 */
export function setCookieHeaders(headers: Headers | Readonly<Record<string, unknown>>): string[] {
  if (headers instanceof Headers) return headers.getSetCookie();
  const header = headers['set-cookie'];
  if (header === undefined) return [];
  return Array.isArray(header) ? header.map(String) : [String(header)];
}

/** Every cookie a response sets. */
export function setCookiesOf(response: { readonly headers: Headers | Readonly<Record<string, unknown>> }) {
  return setCookieHeaders(response.headers).map(parseSetCookie);
}

/** The cookie called `name` that a response sets, if any. */
export function setCookieOf(
  response: { readonly headers: Headers | Readonly<Record<string, unknown>> },
  name: string,
): SetCookie | undefined {
  return setCookiesOf(response).find((cookie) => cookie.name === name);
}
