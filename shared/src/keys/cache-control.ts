/**
 * The freshness lifetime, in ms, that a response's Cache-Control header grants: `max-age` in
 * seconds (`s-maxage`, meant for shared caches, is ignored); `no-cache` or `no-store` mean 0;
 * undefined when the header is absent or names no (well-formed) max-age. Repeated headers count
 * as one list.
 */
export function cacheControlMaxAgeMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return undefined;
  if (/(?:^|,)\s*no-(?:cache|store)\s*(?:,|$)/i.test(value)) return 0;
  // At most ten digits: a longer max-age is treated as none, and cacheMaxAgeMs caps either way.
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(value);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1000;
}

/**
 * How long a fetched document counts as fresh, in ms: the response's max-age within
 * [`minCacheAgeMs`, `cacheMaxAgeMs`], or `cacheMaxAgeMs` when it names none. Shared by the JWKS
 * and discovery clients.
 */
export function freshForMs(
  header: string | string[] | undefined,
  limits: { readonly cacheMaxAgeMs: number; readonly minCacheAgeMs: number },
): number {
  const maxAge = cacheControlMaxAgeMs(header);
  if (maxAge === undefined) return limits.cacheMaxAgeMs;
  return Math.min(limits.cacheMaxAgeMs, Math.max(limits.minCacheAgeMs, maxAge));
}
