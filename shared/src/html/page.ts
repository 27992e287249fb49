import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { html, type SafeHtml, trustedHtml } from './template.js';

// One small stylesheet for every page of both services, allowed by its hash so that the CSP
// needs no 'unsafe-inline'.
const STYLE = [
  'body{font-family:system-ui,sans-serif;max-width:44rem;margin:2.5rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.5}',
  'header{display:flex;justify-content:space-between;align-items:baseline;border-bottom:1px solid #ddd;margin-bottom:1.5rem}',
  'header b{font-size:1.1rem}label{display:block;margin:.6rem 0 .2rem}',
  'input[type=text],input[type=password]{width:100%;max-width:20rem;padding:.4rem;font-size:1rem}',
  'button,.button{display:inline-block;margin-top:1rem;padding:.45rem 1rem;font-size:1rem;border:1px solid #2457c5;',
  'background:#2d6ae3;color:#fff;border-radius:4px;text-decoration:none;cursor:pointer}',
  'button.secondary{background:#fff;color:#2457c5}form.inline{display:inline-block;margin-right:.5rem}',
  '.error{color:#a40e26;background:#fde8ec;padding:.6rem;border-radius:4px}.note{color:#555}',
  'table{border-collapse:collapse}td,th{text-align:left;padding:.2rem .8rem .2rem 0;vertical-align:top}',
  'code{background:#f2f2f2;padding:0 .2rem;border-radius:3px;word-break:break-all}',
  'pre{background:#f2f2f2;padding:.5rem;border-radius:4px;white-space:pre-wrap}ol li{margin-bottom:.5rem}',
].join('');

/** The CSP source for an inline script or style: its SHA-256, so only that exact text runs. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

// Pages' scripts are constants of the code (server1's form_post auto-submit), a handful in all:
// their hashes are computed once, not on every page sent. Capped all the same, so that a caller
// building scripts per request would only miss the cache, never grow it.
const scriptSources = new Map<string, string>();
const MAX_CACHED_SCRIPTS = 16;

function scriptSource(script: string): string {
  const cached = scriptSources.get(script);
  if (cached !== undefined) return cached;
  const source = cspHash(script);
  if (scriptSources.size < MAX_CACHED_SCRIPTS) scriptSources.set(script, source);
  return source;
}

const STYLE_SOURCE = cspHash(STYLE);

/** What a page is made of. */
export interface PageOptions {
  /** The service's name, shown in the header (server1, server2). */
  service: string;
  title: string;
  body: SafeHtml;
  /** An inline script the page needs; the CSP allows exactly this text and no other. */
  script?: string;
  /** Origins the page's forms may post to. Default: only its own ('self'). */
  formAction?: string;
  /**
   * Default 'same-origin'. 'no-referrer' also makes browsers send `Origin: null` on the page's
   * form posts, so it suits only pages whose posts are not checked by Origin (form_post).
   */
  referrerPolicy?: 'same-origin' | 'no-referrer';
}

/** A complete HTML document and the Content-Security-Policy that belongs to it. */
export interface RenderedPage {
  markup: string;
  csp: string;
  referrerPolicy: string;
}

/** Renders a page with the shared layout and a CSP that allows only its own style and script. */
export function renderPage(options: PageOptions): RenderedPage {
  const script = options.script ? html`<script>${trustedHtml(options.script)}</script>` : '';
  const markup = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${options.service}</title>
<style>${trustedHtml(STYLE)}</style>
</head>
<body>
<header><b>${options.service}</b><span class="note">jwt-handoff demo</span></header>
<main>
${options.body}
</main>
${script}
</body>
</html>
`.toString();
  const csp = [
    "default-src 'none'",
    `style-src ${STYLE_SOURCE}`,
    options.script ? `script-src ${scriptSource(options.script)}` : "script-src 'none'",
    `form-action ${options.formAction ?? "'self'"}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return { markup, csp, referrerPolicy: options.referrerPolicy ?? 'same-origin' };
}

/**
 * Sends a rendered page with the headers every page carries: its CSP, no framing, no MIME
 * sniffing, and no caching (pages show per-user data or one-time values).
 */
export function sendPage(reply: FastifyReply, page: RenderedPage, status = 200): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', page.csp)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', page.referrerPolicy)
    .header('cache-control', 'no-store')
    .send(page.markup);
}
