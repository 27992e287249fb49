import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ReasonCode, StoreUnavailableError, TOKEN_REASONS } from '../errors.js';
import { renderPage, sendPage } from '../html/page.js';
import { REASON_MEANINGS } from '../html/reason-meanings.js';
import { html } from '../html/template.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * How the route's errors are answered: `true`, a browser page, always as HTML; `false` or
     * unset, always JSON; `'when-accepted'`, a route that browsers and programs both call (the
     * handoff callback): HTML when the request's `Accept` names `text/html`, JSON otherwise.
     */
    html?: boolean | 'when-accepted';
  }
}

/** Answers a request with an {@link AppError}: what every error of the services becomes. */
export type AppErrorRenderer = (error: AppError, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * The one place where errors become HTTP responses. An {@link AppError} keeps its status and
 * reason; fastify's own input errors (validation, content type, body size) become 4xx with a
 * stable reason; anything else is a bug: logged with its stack and answered with a bare 500.
 */
export function installErrorHandling(app: FastifyInstance, serviceName: string): void {
  const render: AppErrorRenderer = (error, request, reply) =>
    sendAppError(serviceName, error, request, reply);
  app.setErrorHandler(createErrorHandler(render));
  app.setNotFoundHandler((request, reply) =>
    // The message is read by people (on the page) and by logs; the JSON answer carries the reason.
    render(new AppError('not_found', `There is no such page: ${request.url.split('?')[0]}`), request, reply),
  );
}

/** A fastify error handler that logs, maps the error with {@link toAppError}, and renders it. */
export function createErrorHandler(render: AppErrorRenderer) {
  return function handleError(
    err: FastifyError | AppError | StoreUnavailableError,
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const appError = toAppError(err);
    // An outage of a store is expected and reported by its client already: one line, no stack.
    if (err instanceof StoreUnavailableError)
      request.log.warn({ reason: appError.reason, err: `${err.message}: ${err.detail}` }, 'request refused');
    else if (appError.statusCode >= 500) request.log.error({ err }, 'unhandled error');
    else request.log.info({ reason: appError.reason, status: appError.statusCode }, 'request refused');
    return render(appError, request, reply);
  };
}

/** How the error page links back into the service. */
export interface ErrorPageOptions {
  /** Where "Start again" (or "Back to the start") leads. Default `/`. */
  startHref?: string;
}

/**
 * The standard answer: JSON `{ error, reason }`, or for a browser (route config `html`) an
 * HTML page carrying the same reason, with the error's headers either way.
 */
export function sendAppError(
  serviceName: string,
  error: AppError,
  request: FastifyRequest,
  reply: FastifyReply,
  page: ErrorPageOptions = {},
) {
  reply.headers(error.headers);
  if (wantsHtml(request)) return sendPage(reply, errorPage(serviceName, error, page), error.statusCode);
  return reply
    .code(error.statusCode)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ error: error.error, reason: error.reason });
}

function wantsHtml(request: FastifyRequest): boolean {
  const acceptsHtml = (request.headers.accept ?? '').includes('text/html');
  // No route matched: answer a browser with a page, anything else with JSON.
  if (request.routeOptions?.url === undefined) return acceptsHtml;
  // A matched route decides by its config: API routes always answer JSON, pages always HTML.
  const mode = request.routeOptions.config?.html;
  return mode === 'when-accepted' ? acceptsHtml : mode === true;
}

/** Maps any thrown value to the AppError that describes it to the client. */
export function toAppError(err: FastifyError | AppError | StoreUnavailableError): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof StoreUnavailableError)
    return new AppError('store_unavailable', 'The service cannot reach its store. Please try again shortly.');
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('body_too_large', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'this content type is not accepted here');
  }
  if (err.validation) return new AppError('invalid_request', err.message);
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500)
    return new AppError('invalid_request', 'the request is not valid', { statusCode: status });
  return new AppError('internal_error', 'internal error');
}

// A refused sign-in is started again from the beginning; anything else goes back to the start.
const SIGN_IN_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  ...TOKEN_REASONS,
  'state_mismatch',
  'txn_unknown',
]);

function errorTitle(reason: ReasonCode): string {
  if (reason === 'not_found') return 'No such page';
  if (reason === 'rate_limited' || reason === 'login_busy') return 'Please wait before trying again';
  if (SIGN_IN_REASONS.has(reason)) return 'This sign-in did not work';
  return 'Something went wrong';
}

/** A `Retry-After` in seconds as people say it: "42 s", "14 min 5 s", "2 h". */
function waitInWords(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h ? `${h} h` : '', min ? `${min} min` : '', s || seconds === 0 ? `${s} s` : ''];
  return parts.filter(Boolean).join(' ');
}

/**
 * The page a browser sees for a refused request: what happened (the message), what it means
 * and what to do, when to try again (from `Retry-After`), the stable reason code, and a way back.
 */
function errorPage(service: string, error: AppError, options: ErrorPageOptions) {
  const title = errorTitle(error.reason);
  const retryAfter = Number(error.headers['retry-after']);
  const retry = Number.isSafeInteger(retryAfter)
    ? html`<p data-retry-after="${String(retryAfter)}">You can try again in <strong>${waitInWords(retryAfter)}</strong>.</p>`
    : '';
  const back = SIGN_IN_REASONS.has(error.reason) ? 'Start again' : 'Back to the start';
  return renderPage({
    service,
    title,
    body: html`<h1>${title}</h1>
<p class="error">${error.message}</p>
<p data-meaning>${REASON_MEANINGS[error.reason]}</p>
${retry}
<p class="note">Reason: <code data-reason>${error.reason}</code> (HTTP ${String(error.statusCode)})</p>
<p><a class="button" href="${options.startHref ?? '/'}">${back}</a></p>`,
  });
}
