import { type Dispatcher, fetch as undiciFetch } from 'undici';
import { CookieJar } from './cookie-jar.js';
import { type ParsedForm, parseForms } from './html-form.js';

/** One HTTP response as a browser's address bar would end on it. */
export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Every URL visited on the way, the first request included. */
  readonly trail: readonly string[];
}

const MAX_REDIRECTS = 10;

/**
 * A script-less browser over fetch: a cookie jar, redirects followed like a browser does (303
 * turns a POST into a GET), and form submission with the Origin header a browser would send.
 * What it does not do is run the form_post page's script: the caller submits that form, which
 * is exactly what the page's <noscript> button does.
 */
export class Browser {
  readonly cookies = new CookieJar();

  /**
   * @param options.dispatcher an undici dispatcher to send through (e.g. a `testAgent` trusting a
   *   test CA and resolving test host names); default Node's global fetch.
   */
  constructor(private readonly options: { dispatcher?: Dispatcher } = {}) {}

  /** Opens `url` and follows redirects to the final page. */
  open(url: string, init: { headers?: Record<string, string> } = {}): Promise<Page> {
    return this.follow('GET', url, undefined, init.headers ?? {});
  }

  /** Submits `form` found on `page`, with `overrides` for some fields, following redirects. */
  submit(page: Page, form: ParsedForm, overrides: Record<string, string> = {}): Promise<Page> {
    const action = new URL(form.action || page.url, page.url).href;
    const body = new URLSearchParams({ ...form.fields, ...overrides }).toString();
    return this.follow('POST', action, body, { origin: new URL(page.url).origin });
  }

  /** Submits the first form on `page` whose action ends with `actionSuffix`. */
  submitForm(page: Page, actionSuffix: string, overrides: Record<string, string> = {}): Promise<Page> {
    const form = parseForms(page.body).find((candidate) => candidate.action.endsWith(actionSuffix));
    if (!form)
      throw new Error(`no form posting to …${actionSuffix} on ${page.url} (${page.status}):\n${page.body}`);
    return this.submit(page, form, overrides);
  }

  /** One request without following redirects; cookies are sent and stored. */
  async fetch(
    method: string,
    url: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const cookie = this.cookies.header(url);
    const init = {
      method,
      redirect: 'manual' as const,
      headers: {
        accept: 'text/html,application/json',
        ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(cookie ? { cookie } : {}),
        ...headers,
      },
      body,
    };
    const { dispatcher } = this.options;
    // undici's own fetch with its dispatcher: Node's bundled fetch is another undici version.
    const response = dispatcher
      ? ((await undiciFetch(url, { ...init, dispatcher })) as unknown as Response)
      : await fetch(url, init);
    this.cookies.store({ url, setCookies: response.headers.getSetCookie() });
    return {
      url,
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      trail: [url],
    };
  }

  private async follow(
    method: string,
    url: string,
    body: string | undefined,
    headers: Record<string, string>,
  ) {
    const trail: string[] = [];
    let page = await this.fetch(method, url, body, headers);
    trail.push(url);
    for (let hop = 0; hop < MAX_REDIRECTS && page.status >= 300 && page.status < 400; hop++) {
      const location = page.headers.get('location');
      if (!location) break;
      const next = new URL(location, page.url).href;
      // 303 (and, as browsers do, 301/302 after a POST) continues as a GET without a body.
      const keepMethod = page.status === 307 || page.status === 308;
      page = await this.fetch(
        keepMethod ? method : 'GET',
        next,
        keepMethod ? body : undefined,
        keepMethod ? headers : {},
      );
      trail.push(next);
    }
    return { ...page, trail };
  }
}
