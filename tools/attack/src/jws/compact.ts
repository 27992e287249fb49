/** A decoded compact JWS: the parsed header and payload, and the three segments as sent. */
export interface DecodedJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly segments: readonly [header: string, payload: string, signature: string];
}

/** base64url of the JSON of `value`: one segment of a hand-built JWS. */
export function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The bytes a JWS signature covers: `header.payload`, as ASCII. */
export function signingInput(header: string, payload: string): Buffer {
  return Buffer.from(`${header}.${payload}`, 'ascii');
}

/** Decodes a compact JWS without checking anything; throws on a malformed one. */
export function decodeJws(token: string): DecodedJws {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const json = (text: string) =>
    JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: json(header), payload: json(payload), segments: [header, payload, signature] };
}

/** Joins three segments into a compact JWS. */
export function compact(header: string, payload: string, signature: string): string {
  return `${header}.${payload}.${signature}`;
}

/** A token that looks like a JWT (in a URL, a cookie): three base64url segments, the first `eyJ`. */
export const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
