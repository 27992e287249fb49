import { html, type SafeHtml } from '@jwt-handoff/shared';

/** A compact JWS's header and claims, decoded for display. */
export interface DecodedToken {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
}

/**
 * Decodes the header and claims of a token this service minted, to show them. No signature is
 * checked: nothing here decides anything from what it decodes.
 */
export function decodeToken(token: string): DecodedToken {
  const [header = '', claims = ''] = token.split('.');
  return { header: decodeSegment(header), claims: decodeSegment(claims) };
}

function decodeSegment(segment: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Header and claims as indented JSON, each in its own block; `html` escapes every character. */
export function decodedTokenBlocks(decoded: DecodedToken, id: string): SafeHtml {
  return html`<p>Header</p>
<pre id="${id}-header"><code>${JSON.stringify(decoded.header, null, 2)}</code></pre>
<p>Claims</p>
<pre id="${id}-claims"><code>${JSON.stringify(decoded.claims, null, 2)}</code></pre>`;
}
