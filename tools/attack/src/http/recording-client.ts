import { Agent, request } from 'undici';

/** One answer of the deployment, as the attacks read it. */
export interface HttpResponse {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** Header names in lower case; repeated headers joined by `, ` (see `setCookies`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly setCookies: readonly string[];
  readonly body: string;
  /** How long the answer took, in milliseconds. */
  readonly ms: number;
}

/** What {@link RecordingClient.send} sends. */
export interface HttpRequest {
  headers?: Record<string, string>;
  body?: string;
}

/** Every exchange of the run, kept for the whole-run checks (no 5xx, no token in a redirect). */
export interface Exchange {
  readonly method: string;
  readonly url: string;
  /** The status, or 0 when no answer came (the connection was closed or timed out). */
  readonly status: number;
  readonly location: string | undefined;
  readonly setCookies: readonly string[];
}

/** Bodies are read up to this many bytes; the rest is drained and dropped. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The tool's only way out to the network: undici requests that never follow redirects, sent only
 * to the origins the tool was pointed at (so an open redirect, or a `Location` the deployment
 * chose, can never make it talk to another host), each recorded.
 */
export class RecordingClient {
  readonly exchanges: Exchange[] = [];
  private readonly origins: Set<string>;
  private readonly agent = new Agent({
    connect: { timeout: 5_000 },
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });

  constructor(origins: Iterable<string>) {
    this.origins = new Set([...origins].map((url) => new URL(url).origin));
  }

  /** Whether `url` is on an origin this client may talk to. */
  allows(url: string): boolean {
    return this.origins.has(new URL(url).origin);
  }

  async send(method: string, url: string, init: HttpRequest = {}): Promise<HttpResponse> {
    if (!this.allows(url)) throw new Error(`refusing to send a request to ${new URL(url).origin}`);
    const started = performance.now();
    try {
      const response = await request(url, {
        method: method as 'GET',
        headers: init.headers,
        body: init.body,
        dispatcher: this.agent,
      });
      const headers: Record<string, string> = {};
      let setCookies: string[] = [];
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined) continue;
        const values = Array.isArray(value) ? value : [value];
        if (name === 'set-cookie') setCookies = values;
        headers[name] = values.join(', ');
      }
      const body = await readText(response.body);
      this.exchanges.push({
        method,
        url,
        status: response.statusCode,
        location: headers.location,
        setCookies,
      });
      return {
        method,
        url,
        status: response.statusCode,
        headers,
        setCookies,
        body,
        ms: performance.now() - started,
      };
    } catch (err) {
      this.exchanges.push({ method, url, status: 0, location: undefined, setCookies: [] });
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < MAX_BODY_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}
