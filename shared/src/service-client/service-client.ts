import { Agent, request } from 'undici';
import { trustedCaConnectOptions } from '../http/outbound-ca.js';
import type { ServiceTokenSource } from './service-token-cache.js';

/** Options of {@link createServiceClient}. All durations in milliseconds. */
export interface ServiceClientOptions {
  /** Where tokens come from (usually a {@link createServiceTokenCache}). */
  tokens: ServiceTokenSource;
  /** Time to open a TCP connection. Default 1000. */
  connectTimeoutMs?: number;
  /** Time to the response headers, and between body chunks. Default 2000. */
  responseTimeoutMs?: number;
  /** The largest response body read, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
  /** PEM certificates trusted for https besides Node's default roots (TLS_CA_FILE). Default none. */
  ca?: readonly string[] | undefined;
}

/** One call's target and authorisation. */
export interface ServiceCall {
  /** The absolute URL to call. */
  url: string;
  /** The target's client id: the token's `aud`. */
  audience: string;
  /** The scope the call needs. */
  scope: string;
  /** Overall deadline of this call. Default: the client's timeouts only. */
  signal?: AbortSignal;
}

/** A JSON answer from another service. */
export interface ServiceResponse<T> {
  status: number;
  body: T;
}

/** Thrown when a call fails: network error, timeout, non-2xx, redirect or a body that is not JSON. */
export class ServiceCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServiceCallError';
  }
}

/** Calls other services' APIs with a Bearer `service+jwt`. */
export interface ServiceClient {
  getJson<T>(call: ServiceCall): Promise<ServiceResponse<T>>;
  /** Closes the keep-alive connections. */
  close(): Promise<void>;
}

/**
 * A client for service-to-service calls over a keep-alive undici Agent with connect, header and
 * body timeouts. It never follows a redirect: a 3xx is an error, so the Authorization header can
 * never be replayed to wherever a Location points.
 */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const responseTimeout = options.responseTimeoutMs ?? 2_000;
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs ?? 1_000, ...trustedCaConnectOptions(options.ca) },
    headersTimeout: responseTimeout,
    bodyTimeout: responseTimeout,
    keepAliveTimeout: 10_000,
  });

  return {
    async getJson<T>(call: ServiceCall): Promise<ServiceResponse<T>> {
      const token = await options.tokens(call.audience, call.scope);
      let response: Awaited<ReturnType<typeof request>>;
      try {
        // undici's request() follows no redirects unless a redirect interceptor is added.
        response = await request(call.url, {
          method: 'GET',
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          signal: call.signal,
        });
      } catch (err) {
        throw new ServiceCallError(
          `cannot reach ${new URL(call.url).origin}: ${(err as Error).message}`,
          undefined,
          {
            cause: err,
          },
        );
      }
      const { statusCode, body } = response;
      if (statusCode < 200 || statusCode >= 300) {
        await body.dump();
        throw new ServiceCallError(`${new URL(call.url).origin} answered ${statusCode}`, statusCode);
      }
      const declared = Number(response.headers['content-length']);
      if (declared > maxBytes) {
        await body.dump();
        throw new ServiceCallError(
          `response of ${declared} bytes is over the ${maxBytes}-byte limit`,
          statusCode,
        );
      }
      const text = await readAtMost(body, maxBytes, statusCode);
      try {
        return { status: statusCode, body: JSON.parse(text) as T };
      } catch (err) {
        throw new ServiceCallError('the response is not JSON', statusCode, { cause: err });
      }
    },
    close: () => agent.close(),
  };
}

/** Reads a body of at most `maxBytes`; a stall, an abort or an overrun is a ServiceCallError. */
async function readAtMost(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
  status: number,
) {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy();
        throw new ServiceCallError(`response is over the ${maxBytes}-byte limit`, status);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ServiceCallError) throw err;
    throw new ServiceCallError(`the response body failed: ${(err as Error).message}`, status, { cause: err });
  }
  return Buffer.concat(chunks).toString('utf8');
}
