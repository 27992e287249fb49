import { html, type RenderedPage, renderPage, type SafeHtml } from '@jwt-handoff/shared';
import type { ActivityCall, ClientActivity } from '../activity/activity-panel.js';
import type { ClientRegistration } from '../config.js';
import type { User } from '../stores/user-store.js';
import { decodedTokenBlocks, decodeToken } from './decoded-token.js';

const SERVICE = 'server1';

/** The sign-in form. `error` is shown above it; the CSRF token rides in a hidden field. */
export function loginPage(options: {
  csrfToken: string;
  returnTo: string;
  username?: string;
  error?: string;
  reason?: string;
  notice?: string;
  /** The display name of the registered service that asked for this sign-in (a handoff). */
  requestedBy?: string;
}): RenderedPage {
  return renderPage({
    service: SERVICE,
    title: 'Sign in',
    body: html`<h1>Sign in</h1>
${
  options.requestedBy
    ? html`<p class="note" id="requested-by"><b>${options.requestedBy}</b> asked server1 to sign you in. Afterwards server1 hands you back to ${options.requestedBy} with a short-lived signed token; your password stays here.</p>`
    : ''
}
${options.notice ? html`<p class="note" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="error" role="alert" data-reason="${options.reason ?? ''}">${options.error}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="${options.csrfToken}">
<input type="hidden" name="return_to" value="${options.returnTo}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required value="${options.username ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div><button type="submit">Sign in</button></div>
</form>`,
  });
}

/**
 * The signed-in home page: who you are, your services and your activity there, sign-out. The
 * sign-out forms carry the session's sign-out token in a hidden field.
 */
export function dashboardPage(options: {
  user: User;
  clients: readonly ClientRegistration[];
  activity: readonly ClientActivity[];
  signOutToken: string;
}): RenderedPage {
  const { user, clients } = options;
  return renderPage({
    service: SERVICE,
    title: 'Dashboard',
    body: html`<h1>Signed in as ${user.name}</h1>
<p class="note">Username <code>${user.username}</code> · user id <code>${user.id}</code></p>
<h2>Your services</h2>
<ul>
${clients.map((client) => html`<li><a class="service-link" href="${client.startUrl}">Open ${client.name}</a></li>`)}
</ul>
${options.activity.length > 0 ? options.activity.map(activityPanel) : noActivity(clients)}
<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf_token" value="${options.signOutToken}"><button type="submit" class="secondary">Sign out</button></form>
<form class="inline" method="post" action="/logout/everywhere"><input type="hidden" name="csrf_token" value="${options.signOutToken}"><button type="submit" class="secondary">Sign out everywhere</button></form>`,
  });
}

// Activity is shown only for the services (with an API) the user has opened; until then, a note.
function noActivity(clients: readonly ClientRegistration[]): SafeHtml | string {
  if (!clients.some((client) => client.apiUrl !== undefined)) return '';
  return html`<section class="activity"><h2>Your activity</h2>
<p class="note" data-no-activity>Your activity on a service shows here once you have opened it from this account.</p>
</section>`;
}

// Why a report is missing is logged, never written into the page: it would show users the
// services' internal addresses and error text.
function activityPanel({ client, report, call }: ClientActivity): SafeHtml {
  if (!report) {
    return html`<section class="activity" data-client="${client.id}"><h2>Your activity on ${client.name}</h2>
<p class="note" data-unavailable>${client.name} is not answering right now, so your activity there cannot be shown.</p>
</section>`;
  }
  const handoffs = report.recent_handoffs.slice(0, 5);
  return html`<section class="activity" data-client="${client.id}"><h2>Your activity on ${client.name}</h2>
<p>Open sessions: <b data-active-sessions>${report.active_sessions}</b>${
    report.last_seen_at ? html` · last seen <time>${report.last_seen_at}</time>` : ''
  }</p>
${handoffs.length > 0 ? html`<p>Recent sign-ins: ${handoffs.map((at) => html`<time>${at}</time> `)}</p>` : ''}
${call ? callProvenance(client, call) : ''}
</section>`;
}

// Where a panel came from: the service-to-service call, its token's decoded claims (never the
// token itself, which is a bearer token still valid for a while), the answer's status and time.
function callProvenance(client: ClientRegistration, call: ActivityCall): SafeHtml {
  const decoded = decodeToken(call.token);
  return html`<div class="provenance" data-provenance>
<p class="note">server1 fetched this from ${client.name}'s <code data-route>${call.route}</code> with a <code>${String(decoded.header.typ)}</code> bearer token, server to server: answer <b data-status>${call.status}</b> in <b data-duration>${Math.max(1, Math.round(call.durationMs))} ms</b>.</p>
${decodedTokenBlocks(decoded, `service-token-${client.id}`)}
</div>`;
}

// Submits the form as soon as the page is parsed. A constant, so its CSP hash is fixed.
const AUTO_SUBMIT = 'document.forms[0].submit();';

/**
 * The form_post response of a handoff: a form that posts the token to the client's callback
 * and submits itself, with a button inside <noscript> for browsers without scripts. The CSP
 * allows only this script and only a post to the client's origin. In step-through mode (a demo
 * setting) it runs no script at all: it shows the decoded token, where it goes and why, and
 * waits for the Continue button.
 */
/**
 * The end-session endpoint's question, when the client's hint did not prove that the sign-out
 * comes from this session's own client: a form (with the session's CSRF token) that signs out of
 * server1 and goes back to the client, and a way to stay signed in. `reason` says why it asks.
 */
export function endSessionConfirmPage(options: {
  clientName: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  signOutToken: string;
  reason: string;
}): RenderedPage {
  return renderPage({
    service: SERVICE,
    title: 'Sign out?',
    body: html`<h1>Sign out of server1?</h1>
<p data-reason="${options.reason}">${options.clientName} asks to sign you out of server1 and of every service you used through it.</p>
<form method="post" action="/logout/end-session">
<input type="hidden" name="csrf_token" value="${options.signOutToken}">
<input type="hidden" name="client_id" value="${options.clientId}">
<input type="hidden" name="post_logout_redirect_uri" value="${options.redirectUri}">
${options.state === undefined ? '' : html`<input type="hidden" name="state" value="${options.state}">`}
<button type="submit">Sign out</button>
</form>
<p><a href="/">Stay signed in</a></p>`,
    // The form's answer redirects to the client: form-action covers the redirect too.
    formAction: `'self' ${new URL(options.redirectUri).origin}`,
  });
}

export function formPostPage(options: {
  action: string;
  token: string;
  clientName: string;
  stepThrough?: boolean;
}): RenderedPage {
  if (options.stepThrough) return stepThroughPage(options);
  return renderPage({
    service: SERVICE,
    title: `Signing you in to ${options.clientName}`,
    body: html`<h1>Signing you in to ${options.clientName}…</h1>
<form method="post" action="${options.action}">
<input type="hidden" name="token" value="${options.token}">
<noscript><p>Scripts are off in this browser. Press the button to continue.</p>
<button type="submit">Continue to ${options.clientName}</button></noscript>
</form>`,
    script: AUTO_SUBMIT,
    formAction: new URL(options.action).origin,
    // The page carries a token: no Referer may point back at it from anywhere.
    referrerPolicy: 'no-referrer',
  });
}

/** The step-through form_post page: the same form, shown and explained, posted by the user. */
function stepThroughPage(options: { action: string; token: string; clientName: string }): RenderedPage {
  const decoded = decodeToken(options.token);
  return renderPage({
    service: SERVICE,
    title: `Handing you off to ${options.clientName}`,
    body: html`<h1>Handing you off to ${options.clientName}</h1>
<p class="note">Step-through mode (<code>HANDOFF_STEP_THROUGH=true</code>, a demo setting): this page would normally post itself at once.</p>
<p>server1 has signed this <code>${String(decoded.header.typ)}</code> token for <b>${options.clientName}</b>. Pressing Continue posts it, in the body of a form, to</p>
<p><code id="post-target">POST ${options.action}</code></p>
<p>It travels in a POST body, never in a URL, so it stays out of browser history, server logs and the <code>Referer</code> header (the form_post response mode of OAuth). ${options.clientName} verifies it, uses it once and keeps only a session of its own.</p>
<h2>The token about to be posted, decoded</h2>
${decodedTokenBlocks(decoded, 'handoff-token')}
<form method="post" action="${options.action}">
<input type="hidden" name="token" value="${options.token}">
<button type="submit" id="continue">Continue to ${options.clientName}</button>
</form>`,
    formAction: new URL(options.action).origin,
    referrerPolicy: 'no-referrer',
  });
}
