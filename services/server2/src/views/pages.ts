import { html, type RelyingSession, type RenderedPage, renderPage } from '@jwt-handoff/shared';
import { traceSection } from './trace-section.js';

const SERVICE = 'server2';

/** Claims shown on the home page, in this order, with the time claims made readable. */
const SHOWN_CLAIMS = ['iss', 'sub', 'aud', 'name', 'email', 'auth_time', 'iat', 'exp', 'jti', 'sid'] as const;
const TIME_CLAIMS = new Set(['auth_time', 'iat', 'exp']);

/**
 * The signed-in home page: who you are, the claims server2 verified, what its verifier checked
 * (the session's trace), and the sign-out form with the session's sign-out token.
 */
export function homePage(
  session: RelyingSession,
  signOutToken: string,
  nowMs: number,
  issuerUrl: string,
): RenderedPage {
  const { claims } = session;
  const rows = SHOWN_CLAIMS.filter((name) => claims[name] !== undefined).map((name) => {
    const value = claims[name];
    const shown = TIME_CLAIMS.has(name) ? readableTime(value) : String(value);
    return html`<tr><th>${name}</th><td><code>${shown}</code></td></tr>`;
  });
  return renderPage({
    service: SERVICE,
    title: 'Home',
    body: html`<h1>Hello, ${claims.name ?? claims.sub}</h1>
<p>You are signed in to server2 with a session of its own, started by a handoff from server1.</p>
<h2>Verified claims of the handoff token</h2>
<table id="claims">${rows}</table>
<p><a id="sensitive-link" href="/sensitive">Sensitive settings</a> (asks for a recent sign-in)</p>
${traceSection(session.trace, nowMs, claims.exp)}
<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf_token" value="${signOutToken}"><button type="submit" class="secondary">Sign out of server2</button></form>
<form class="inline" method="post" action="/logout/everything"><input type="hidden" name="csrf_token" value="${signOutToken}"><button type="submit" class="secondary">Sign out of everything</button></form>`,
    // "Sign out of everything" answers with a redirect to server1, which form-action must allow.
    formAction: `'self' ${new URL(issuerUrl).origin}`,
  });
}

// The verifier checks iat and exp but not auth_time, so a signed auth_time may be no date at all
// (a word, or out of Date's range, where toISOString throws): such a value is shown as it is.
function readableTime(value: unknown): string {
  const date = typeof value === 'number' ? new Date(value * 1000) : undefined;
  return date && !Number.isNaN(date.getTime()) ? `${value} (${date.toISOString()})` : String(value);
}

/**
 * The page behind `requireSession({ maxAgeSec })`: shown only to a session whose sign-in at
 * server1 is recent enough (docs/design.md, "Fresh sign-in").
 */
export function sensitivePage(session: RelyingSession, maxAgeSec: number): RenderedPage {
  const { claims } = session;
  return renderPage({
    service: SERVICE,
    title: 'Sensitive settings',
    body: html`<h1 id="sensitive">Sensitive settings</h1>
<p>This page needs a sign-in at server1 within the last ${maxAgeSec} seconds.</p>
<p>You signed in at <code id="auth-time">${readableTime(claims.auth_time)}</code>.</p>
<p><a href="/">Back</a></p>`,
  });
}

/** Where a sign-out lands. Not `/`, which would sign the user straight back in. */
export function signedOutPage(options: { everywhere?: boolean } = {}): RenderedPage {
  return renderPage({
    service: SERVICE,
    title: 'Signed out',
    body: options.everywhere
      ? html`<h1>You have signed out of everything</h1>
<p>Your sessions on server2 and on server1 have ended, and the other services you used were told.</p>
<a class="button" href="/handoff/start?return_to=%2F">Sign in with server1</a>`
      : html`<h1>You have signed out of server2</h1>
<p>Your session on server1 may still be open; signing in again then needs no password.</p>
<a class="button" href="/handoff/start?return_to=%2F">Sign in with server1</a>`,
  });
}
