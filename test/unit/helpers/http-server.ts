import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from '@jwt-handoff/testkit';

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 with a swappable handler and a count of the requests it saw. */
export interface TestServer {
  readonly url: URL;
  /** Requests received so far. */
  readonly hits: () => number;
  /** Replaces how the server answers from the next request on. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port of 127.0.0.1; `path` is the path of the returned URL. */
export async function startServer(handler: Handler, path = '/.well-known/jwks.json'): Promise<TestServer> {
  let current = handler;
  let hits = 0;
  const server = await listenOnLoopback((request, response) => {
    hits += 1;
    current(request, response);
  });
  return {
    url: new URL(`${server.url}${path}`),
    hits: () => hits,
    handle: (next) => {
      current = next;
    },
    close: server.close,
  };
}

/** A handler that answers 200 with `body` serialised as JSON. */
export function json(body: unknown): Handler {
  return (_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(body));
  };
}
