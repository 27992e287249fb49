import { KeySourceUnavailableError } from './key-source.js';

/**
 * A fetch for JWKS documents that refuses redirects and bodies larger than `maxBytes`, so a
 * misconfigured or hostile endpoint cannot make the verifier follow it elsewhere or buffer an
 * unbounded response. The signal carries jose's timeout.
 */
export function createBoundedFetch(maxBytes: number): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const response = await fetch(url, { ...init, redirect: 'manual' });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new KeySourceUnavailableError(
        `JWKS endpoint answered a redirect (${response.status}), not followed`,
      );
    }
    const declared = Number(response.headers.get('content-length'));
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw new KeySourceUnavailableError(
        `JWKS response of ${declared} bytes is over the ${maxBytes}-byte limit`,
      );
    }
    const body = await readAtMost(response, maxBytes);
    return new Response(body, { status: response.status, headers: response.headers });
  };
}

async function readAtMost(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new KeySourceUnavailableError(`JWKS response is over the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
