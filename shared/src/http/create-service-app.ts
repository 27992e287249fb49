import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ListenTls } from '../config/tls-files.js';
import { fastifyTrustProxy, type TrustProxy } from '../config/trust-proxy.js';
import { createErrorHandler, installErrorHandling, sendAppError } from './error-handler.js';
import { loggerOptions } from './logger-options.js';
import { securityHeaders } from './security-headers.js';

/** What {@link createServiceApp} needs to know of a service. */
export interface ServiceAppOptions {
  /** Shown on error pages (server1, server2). */
  serviceName: string;
  /** The URL browsers use: with https, every response carries HSTS. */
  publicUrl: string;
  logLevel: string;
  /** Where logs go instead of stdout (tests collect them). */
  logStream?: NodeJS.WritableStream | undefined;
  /** Whose X-Forwarded-For to believe: no one, the nearest n proxies, or the listed ones (TRUST_PROXY). */
  trustProxy: TrustProxy;
  /** Bodies larger than this are refused with 413 before they are parsed. */
  bodyLimitBytes: number;
  /** Signs cookies that need it (server2's s2_handoff). */
  cookieSecret?: string | undefined;
  /** Listen over TLS with this certificate and key (TLS_CERT_FILE, TLS_KEY_FILE); default plain http. */
  tls?: ListenTls | undefined;
}

/**
 * The fastify instance both services start from: their logger (no secrets in logs), the one
 * error handler, the security headers of every response, cookies, and urlencoded forms as the
 * only body type. Without the JSON and text parsers, any other body type is a 415 before it is
 * parsed, never a parse error.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<FastifyInstance> {
  const logger = loggerOptions(options.logLevel) as Record<string, unknown>;
  const headers = securityHeaders(options.publicUrl);
  const app = Fastify({
    // TLS 1.2 and 1.3 only (Node's default minimum), with Node's default ciphers.
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    logger: options.logStream ? { ...logger, stream: options.logStream } : logger,
    trustProxy: fastifyTrustProxy(options.trustProxy),
    bodyLimit: options.bodyLimitBytes,
    forceCloseConnections: true,
    return503OnClosing: true,
    // The router's own refusals (a malformed percent-encoding, a path parameter over 100
    // characters) are answered before any route's error handler; this gives them our shape
    // and a reason code too.
    frameworkErrors: createErrorHandler((error, request, reply) =>
      // Answered before any hook runs, so they take the security headers here.
      sendAppError(options.serviceName, error, request, reply.headers(headers)),
    ),
  });
  // nosniff, and HSTS over https (security-headers.ts), set first thing by one hook of our own
  // rather than @fastify/helmet: helmet's defaults put a generic CSP on every response beside
  // each page's hashed one, and framing and referrer headers that the pages set differently;
  // with those turned off, what is left is these two headers, for a new dependency. A root-level
  // onRequest hook runs before every route and the 404 handler, and what it sets stays on the
  // reply through the error handler. Only fastify's 503 while closing is written before it.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  installErrorHandling(app, options.serviceName);
  await app.register(fastifyCookie, options.cookieSecret ? { secret: options.cookieSecret } : {});
  app.removeAllContentTypeParsers();
  await app.register(fastifyFormbody);
  return app;
}
