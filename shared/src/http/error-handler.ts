import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, StoreUnavailableError } from '../errors.js';
import { renderPage, sendPage } from '../html/page.js';
import { html } from '../html/template.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is a browser page: its errors are rendered as HTML rather than JSON. */
    html?: boolean;
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
    render(
      new AppError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`),
      request,
      reply,
    ),
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

/**
 * The standard answer: JSON `{ error, reason }`, or for a browser route (route config `html`) an
 * HTML page carrying the same reason, with the error's headers either way.
 */
export function sendAppError(
  serviceName: string,
  error: AppError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  reply.headers(error.headers);
  if (wantsHtml(request)) return sendPage(reply, errorPage(serviceName, error), error.statusCode);
  return reply
    .code(error.statusCode)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ error: error.error, reason: error.reason });
}

function wantsHtml(request: FastifyRequest): boolean {
  // A matched route decides by its config: API and callback routes always answer JSON.
  if (request.routeOptions?.url !== undefined) return request.routeOptions.config?.html === true;
  // No route matched: answer a browser with a page, anything else with JSON.
  return (request.headers.accept ?? '').includes('text/html');
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

/** The page a browser sees for a refused request: the message and the stable reason code. */
function errorPage(service: string, error: AppError) {
  return renderPage({
    service,
    title: 'Something went wrong',
    body: html`<h1>Something went wrong</h1>
<p class="error">${error.message}</p>
<p class="note">Reason: <code data-reason>${error.reason}</code> (HTTP ${error.statusCode})</p>
<p><a href="/">Back to the start</a></p>`,
  });
}
