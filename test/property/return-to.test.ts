import { safeReturnTo } from '@jwt-handoff/shared';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Browser,
  PUBLIC_URL,
  postCallback,
  type Server2Harness,
  startServer2,
  stateOf,
  txnOf,
} from '../integration/server2/helpers.js';
import { PROPERTY_TIMEOUT_MS, runOptions } from './run-options.js';

const ORIGIN = 'https://app.example';

// Pieces an open redirect is built from: slashes and backslashes, raw and percent-encoded, schemes,
// userinfo, dot segments, whitespace and control characters, look-alikes and lone surrogates.
const URL_PIECES = [
  '/',
  '//',
  '\\',
  '\\\\',
  '/\\',
  '%2F',
  '%2f',
  '%5C',
  '%5c',
  '%2E',
  '%2e',
  '%252F',
  '%00',
  '%09',
  '%0A',
  '%',
  'http:',
  'https:',
  'HTTPS:',
  'javascript:',
  'data:',
  'file:',
  'evil.example',
  '@',
  ':',
  '?',
  '#',
  '&',
  '=',
  '.',
  '..',
  './',
  '../',
  '/./',
  '/../',
  ' ',
  '\t',
  '\n',
  '\r',
  '\0',
  '\x7f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u3002',
  '\uff0e',
  '\uff0f',
  '\uff3c',
  '\u2215',
  '\ud800',
  '\udfff',
  'a',
  'é',
  '😀',
];

const urlish = fc.string({ unit: fc.constantFrom(...URL_PIECES), maxLength: 16 });

/** Any string a `return_to` may hold: random text, and URL-ish strings that start like a path. */
const returnTo = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii' }),
  fc.string({ unit: 'grapheme' }),
  urlish,
  fc.tuple(fc.constantFrom('/', '//', '/\\', '\\', '/.', '/..', '/%2F'), urlish).map(([a, b]) => a + b),
  // Around the 2048-character cap, where percent-encoding makes a path grow past it: runs of a
  // piece repeated, which shrink fast (by their counts) when a case fails.
  fc
    .array(
      fc.tuple(
        fc.constantFrom('a', '/', 'é', '😀', '%2F', ' ', '"', '<', '\u3002', '?', '#'),
        fc.integer({ min: 1, max: 700 }),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((runs) => `/${runs.map(([piece, count]) => piece.repeat(count)).join('')}`),
);

/** The checks every result of safeReturnTo passes, whatever it was given. */
function expectSameOriginPath(result: string, origin: string, input: string): void {
  const what = `return_to ${JSON.stringify(input)} became ${JSON.stringify(result)}`;
  expect(result.startsWith('/'), what).toBe(true);
  expect(result.startsWith('//') || result.startsWith('/\\'), what).toBe(false);
  expect(new URL(result, origin).origin, what).toBe(origin);
}

describe('safeReturnTo, for any string', () => {
  it(
    'answers a path on the service own origin, which it keeps unchanged when given again (10,000 cases)',
    () => {
      fc.assert(
        fc.property(returnTo, (input) => {
          const result = safeReturnTo(input);
          expectSameOriginPath(result, ORIGIN, input);
          // The state cookie stores this result and the completion passes it through again.
          expect(safeReturnTo(result), `return_to ${JSON.stringify(input)}`).toBe(result);
        }),
        runOptions(10_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

/** `value` with each lone surrogate replaced by U+FFFD, as UTF-8 encoding (and a browser) does. */
function wellFormedOf(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

/** How the browser's link spells `return_to` in the query of /handoff/start. */
type QueryEncoding = 'component' | 'form' | 'loose';

/**
 * `value` in a query string: percent-encoded as encodeURIComponent does, as a form does (`+` for a
 * space), or loosely, leaving `%` and most ASCII as typed so that the server decodes what the
 * string already held (`%2F` arrives as `/`).
 */
function queryOf(value: string, encoding: QueryEncoding): string {
  const wellFormed = wellFormedOf(value);
  if (encoding === 'component') return `return_to=${encodeURIComponent(wellFormed)}`;
  if (encoding === 'form') return new URLSearchParams({ return_to: wellFormed }).toString();
  const loose = [...wellFormed]
    .map((char) => (/^[\x21-\x7e]$/.test(char) && !'#&+'.includes(char) ? char : encodeURIComponent(char)))
    .join('');
  return `return_to=${loose}`;
}

describe('server2 GET /handoff/start?return_to=…, completed', () => {
  const scope = suiteScope();
  let server: Server2Harness;

  beforeAll(async () => {
    server = await startServer2({ scope });
  });

  it(
    'sends the browser, once signed in, to a path of its own origin, as safeReturnTo promised (1,000 cases)',
    async () => {
      const encoding = fc.constantFrom<QueryEncoding>('component', 'form', 'loose');
      await fc.assert(
        fc.asyncProperty(returnTo, encoding, async (input, how) => {
          const browser = new Browser(server);
          const start = await browser.get(`/handoff/start?${queryOf(input, how)}`);
          const state = stateOf(start);
          // Browsers keep a cookie only up to 4096 bytes of name and value: a longer state cookie
          // would be dropped and the handoff could not complete.
          const stateCookie = browser.cookies.header('/handoff/complete') ?? '';
          expect(stateCookie.length, 'the state cookie').toBeLessThanOrEqual(4096);

          const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));
          const complete = await browser.get(`/handoff/complete?txn=${encodeURIComponent(txn)}`);

          expect(complete.statusCode).toBe(303);
          const location = String(complete.headers.location);
          expectSameOriginPath(location, new URL(PUBLIC_URL).origin, input);
          if (how !== 'loose') expect(location).toBe(safeReturnTo(wellFormedOf(input)));
        }),
        runOptions(1_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
