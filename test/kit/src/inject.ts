import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { CookieJar } from './cookie-jar.js';
import { setCookieHeaders } from './set-cookie.js';

/** What {@link browse} needs of an app: fastify's `inject`. */
export interface Injectable {
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
}

/** An inject request with its URL as a string (a path, or an absolute URL). */
export type BrowseOptions = Omit<InjectOptions, 'url' | 'cookies'> & { url: string };

/**
 * Sends a request through `app.inject` as the browser whose cookies are `jar`: the cookies that
 * match the URL go with it (a `cookie` header in `options.headers` replaces them), and those the
 * response sets or clears are kept.
 */
export async function browse(
  app: Injectable,
  jar: CookieJar,
  options: BrowseOptions,
): Promise<LightMyRequestResponse> {
  const cookie = jar.header(options.url);
  const response = await app.inject({
    ...options,
    headers: { ...(cookie ? { cookie } : {}), ...options.headers },
  });
  jar.store({ url: options.url, setCookies: setCookieHeaders(response.headers) });
  return response;
}

/** A urlencoded form post, as a browser submits one. */
export function formPost(
  url: string,
  fields: Record<string, string>,
  headers: InjectOptions['headers'] = {},
) {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  } satisfies BrowseOptions;
}

/**
 * A browser talking to one app in-process through `inject`: its own {@link CookieJar}, and form
 * posts with the Origin of `origin`, as a page of that site sends them. `target.app` is read at
 * each request, so the browser carries on across a restart of the app.
 */
export class InjectBrowser {
  readonly cookies: CookieJar;

  constructor(
    private readonly target: { readonly app: Injectable },
    private readonly origin: string,
  ) {
    this.cookies = new CookieJar(origin);
  }

  request(options: BrowseOptions): Promise<LightMyRequestResponse> {
    return browse(this.target.app, this.cookies, options);
  }

  get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url, headers });
  }

  /** A same-origin form post, as the browser sends one from a page of `origin`. */
  postForm(
    url: string,
    fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    return this.request(formPost(url, fields, { origin: this.origin, ...headers }));
  }
}
