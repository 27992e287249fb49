import type { CookieSerializeOptions } from '@fastify/cookie';

/** A cookie's final name and the attributes it is always set with. */
export interface CookieSpec {
  readonly name: string;
  readonly options: CookieSerializeOptions;
}

/**
 * Cookie names and attributes for a service reachable at `publicUrl` (docs/design.md section 5). All
 * cookies are HttpOnly and SameSite=Lax. Over https they are Secure, and take the `__Host-`
 * prefix (Path=/, no Domain: the browser then refuses any cookie of that name set by a sibling
 * host) or, for a cookie scoped to a narrower path, the `__Secure-` prefix (which a sibling host
 * can still set, so a cookie whose value decides anything should keep Path=/ over https).
 */
export function cookieSpec(publicUrl: string, baseName: string, path = '/'): CookieSpec {
  const secure = new URL(publicUrl).protocol === 'https:';
  const prefix = !secure ? '' : path === '/' ? '__Host-' : '__Secure-';
  return Object.freeze({
    name: `${prefix}${baseName}`,
    options: Object.freeze({ httpOnly: true, sameSite: 'lax' as const, secure, path }),
  });
}
