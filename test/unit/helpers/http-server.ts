import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  const server = createServer((request, response) => {
    hits += 1;
    current(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}${path}`),
    hits: () => hits,
    handle: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // A handler that never answers leaves its socket open; close() alone would wait for it.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A handler that answers 200 with `body` serialised as JSON. */
export function json(body: unknown): Handler {
  return (_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(body));
  };
}
