import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The attacker's own web server on 127.0.0.1, for the `jku` and `x5u` headers: it serves the
 * attacker's JWKS and certificate and remembers every request, so the run can tell whether the
 * deployment fetched a key from a URL the token named (a server-side request forgery even when
 * the token is then refused). Only a deployment on this machine can reach it.
 */
export class AttackerListener {
  /** The paths requested so far. */
  readonly requested: string[] = [];
  private readonly documents = new Map<string, { type: string; body: string }>();
  private readonly server: Server = createServer((request, response) => {
    this.requested.push(request.url ?? '');
    const document = this.documents.get(request.url ?? '');
    response.writeHead(document ? 200 : 404, { 'content-type': document?.type ?? 'text/plain' });
    response.end(document?.body ?? '');
  });

  /** Serves `body` at `path`. */
  serve(path: string, type: string, body: string): void {
    this.documents.set(path, { type, body });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** The absolute URL of `path` on this listener. */
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
