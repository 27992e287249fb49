import { html, type SafeHtml, type TraceValue, type VerificationTrace } from '@jwt-handoff/shared';

/**
 * How far `atMs` is from `fromMs`, as a person says it: "in 42 s", "3 s ago", "in 2 min". Under
 * half a second either way reads "now".
 */
export function relativeTime(atMs: number, fromMs: number): string {
  const deltaSec = Math.round((atMs - fromMs) / 1000);
  if (deltaSec === 0) return 'now';
  const size = Math.abs(deltaSec);
  const amount =
    size < 120 ? `${size} s` : size < 7200 ? `${Math.round(size / 60)} min` : `${Math.round(size / 3600)} h`;
  return deltaSec > 0 ? `in ${amount}` : `${amount} ago`;
}

function isoTime(atMs: number): string {
  const date = new Date(atMs);
  return Number.isNaN(date.getTime()) ? String(atMs) : date.toISOString();
}

/** A time read relative to `fromMs`, with the ISO time beside it. */
function timeValue(atMs: number, fromMs: number, relativeTo: string): SafeHtml {
  const iso = isoTime(atMs);
  return html`<span class="when">${relativeTime(atMs, fromMs)}${relativeTo}</span> <time datetime="${iso}">${iso}</time>`;
}

function value(item: TraceValue, verifiedAtMs: number): SafeHtml {
  const shown = 'atMs' in item ? timeValue(item.atMs, verifiedAtMs, '') : html`<code>${item.text}</code>`;
  return html`<span class="value" data-label="${item.label}">${item.label} ${shown}</span>`;
}

/**
 * server2's verification trace: the checks its verifier recorded, in order, for the handoff token
 * that started this session, read from the session (so a reload shows the same), and the token
 * itself with its signature shortened. Every value is escaped by `html`, whatever the token held.
 */
export function traceSection(trace: VerificationTrace | undefined, nowMs: number, expSec: number): SafeHtml {
  if (!trace) {
    return html`<section id="trace"><h2>What server2 checked</h2>
<p class="note">This session was started before server2 recorded its checks; sign in again to see them.</p></section>`;
  }
  const expMs = expSec * 1000;
  const entries = trace.entries.map(
    (
      entry,
      index,
    ) => html`<li data-check="${entry.check}" data-index="${index}"><b class="rule">${entry.rule}</b>
<br>${entry.values.map((item, i) => html`${i > 0 ? ' · ' : ''}${value(item, trace.verifiedAtMs)}`)} <span class="ok" aria-label="passed">✓</span></li>`,
  );
  return html`<section id="trace"><h2>What server2 checked, in order</h2>
<p class="note">Recorded by server2's verifier as it accepted the handoff token, ${timeValue(trace.verifiedAtMs, nowMs, '')}; kept with this session, so a reload shows the same record. Times in the lines are relative to that moment.</p>
<ol id="trace-lines">
${entries}
</ol>
<h3>The token, as it arrived</h3>
<p><code id="raw-token">${trace.shortenedToken}</code></p>
<p class="note" id="token-harmless">Shown here because it is harmless now: it was used once (its jti is consumed, so presenting it again is refused as <code>token_replayed</code>), it ${
    expMs > nowMs ? 'expires' : 'expired'
  } ${timeValue(expMs, nowMs, '')}, and its signature is shortened above.</p>
</section>`;
}
