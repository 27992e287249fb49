import type { HttpResponse } from './recording-client.js';

/**
 * The reason code of a refusal: `reason` of a JSON body, or the `data-reason` an HTML error page
 * carries (the contract gives both the same codes).
 */
export function reasonOf(response: HttpResponse): string | undefined {
  const type = response.headers['content-type'] ?? '';
  if (type.includes('json')) {
    try {
      const parsed = JSON.parse(response.body) as { reason?: unknown };
      return typeof parsed.reason === 'string' ? parsed.reason : undefined;
    } catch {
      return undefined;
    }
  }
  return /data-reason(?:="([a-z_]+)")?>([a-z_]+)?/.exec(response.body)?.slice(1).find(Boolean);
}

/** A response in a few words: `400 unsupported_alg`, `303 → /handoff/complete?txn=…`. */
export function describe(response: HttpResponse): string {
  const location = response.headers.location;
  if (location !== undefined) return `${response.status} → ${maskSecrets(shorten(location, 90))}`;
  const reason = reasonOf(response);
  return reason ? `${response.status} ${reason}` : String(response.status);
}

/** Hides one-time values (txn, state, token) in a URL shown in the table. */
export function maskSecrets(url: string): string {
  return url.replace(/([?&](?:txn|state|token)=)[^&#]+/g, '$1…');
}

export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
