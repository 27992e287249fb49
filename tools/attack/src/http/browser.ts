import { CookieJar } from './cookie-jar.js';
import type { HttpResponse, RecordingClient } from './recording-client.js';

/** A response reached by following redirects, with every URL on the way. */
export interface Page extends HttpResponse {
  readonly trail: readonly string[];
}

const MAX_REDIRECTS = 10;

/**
 * A script-less browser: a cookie jar over the recording client, form posts with the Origin a
 * browser would send, and redirects followed like a browser follows them, but only within the
 * deployment (a `Location` elsewhere ends the walk and is returned, never requested).
 */
export class Browser {
  readonly cookies = new CookieJar();

  constructor(private readonly http: RecordingClient) {}

  /** One request without following redirects; cookies go out and come back as a browser's would. */
  async send(
    method: string,
    url: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResponse> {
    const cookie = this.cookies.header(url);
    const response = await this.http.send(method, url, {
      body: init.body,
      headers: {
        accept: 'text/html,application/json;q=0.9',
        ...(init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(cookie ? { cookie } : {}),
        ...init.headers,
      },
    });
    this.cookies.store(url, response.setCookies);
    return response;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return this.send('GET', url, { headers });
  }

  /** Posts a urlencoded form (fields in order), with `headers` such as the page's Origin. */
  post(
    url: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> {
    return this.send('POST', url, { body: new URLSearchParams(fields).toString(), headers });
  }

  /** Follows `response`'s redirects as GETs (303, and 301/302 after a POST, as browsers do). */
  async follow(response: HttpResponse): Promise<Page> {
    const trail = [response.url];
    let page = response;
    for (let hop = 0; hop < MAX_REDIRECTS && isRedirect(page.status); hop++) {
      const location = page.headers.location;
      if (!location) break;
      const next = new URL(location, page.url).href;
      if (!this.http.allows(next)) break;
      page = await this.get(next);
      trail.push(next);
    }
    return { ...page, trail };
  }

  /** Opens `url` and follows its redirects. */
  async open(url: string): Promise<Page> {
    return this.follow(await this.get(url));
  }
}

export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}
