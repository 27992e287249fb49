import { describe, expect, it } from 'vitest';
import { Browser, CLIENT_ID, ISSUER_URL, signIn, startServer2 } from './helpers.js';

/** The trace lines of server2's home page: each line's check id and its text, tags removed. */
function traceLines(page: string): { check: string; text: string }[] {
  const list = /<ol id="trace-lines">([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '';
  return [...list.matchAll(/<li data-check="([a-z]+)"[^>]*>([\s\S]*?)<\/li>/g)].map((match) => ({
    check: match[1] as string,
    text: (match[2] as string)
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ')
      .trim(),
  }));
}

const lineOf = (page: string, check: string) => traceLines(page).find((line) => line.check === check)?.text;

describe("server2's verification trace", () => {
  it('shows, in order, every check its verifier and the completion made, with the values compared', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state, token } = await signIn(server, browser);
    const iat = server.clock.nowSec();

    const home = await browser.get('/');
    expect(home.statusCode).toBe(200);
    expect(traceLines(home.body).map((line) => line.check)).toEqual([
      'header',
      'signature',
      'typ',
      'iss',
      'aud',
      'exp',
      'nbf',
      'iat',
      'lifetime',
      'revocation',
      'jti',
      'nonce',
      'revocation',
    ]);
    expect(lineOf(home.body, 'header')).toContain(`alg EdDSA · kid ${server.key.kid} · typ handoff+jwt`);
    expect(lineOf(home.body, 'signature')).toContain(`kid ${server.key.kid}`);
    expect(lineOf(home.body, 'typ')).toContain('token handoff+jwt · expected handoff+jwt');
    expect(lineOf(home.body, 'iss')).toContain(`token ${ISSUER_URL} · configured ${ISSUER_URL}`);
    expect(lineOf(home.body, 'aud')).toContain(`token ${CLIENT_ID} · client id ${CLIENT_ID}`);
    const expIso = new Date((iat + 60) * 1000).toISOString();
    expect(lineOf(home.body, 'exp')).toContain(`exp in 60 s ${expIso} · clock now`);
    expect(lineOf(home.body, 'exp')).toContain('leeway 5 s');
    expect(lineOf(home.body, 'nbf')).toContain('absent');
    expect(lineOf(home.body, 'lifetime')).toContain('exp − iat 60 s · cap 300 s');
    expect(lineOf(home.body, 'revocation')).toContain('never set');
    expect(lineOf(home.body, 'revocation')).toContain('sid-hash-alice not signed out');
    const jti = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).jti;
    const untilIso = new Date((iat + 65) * 1000).toISOString();
    expect(lineOf(home.body, 'jti')).toContain(`jti ${jti} · use first · recorded until in 65 s ${untilIso}`);
    expect(lineOf(home.body, 'nonce')).toContain(`nonce ${state} · state cookie ${state}`);
    expect(traceLines(home.body).at(-1)?.text).toMatch(/^still not revoked at completion: /);
  });

  it('shows the token with its signature shortened and says why it is harmless', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { token } = await signIn(server, browser);
    const [header, payload, signature] = token.split('.') as [string, string, string];

    const home = await browser.get('/');
    const raw = /<code id="raw-token">([^<]*)<\/code>/.exec(home.body)?.[1];
    expect(raw).toBe(`${header}.${payload}.${signature.slice(0, 8)}…(${signature.length - 8} more)`);
    expect(home.body).not.toContain(signature);
    expect(home.body).toMatch(/id="token-harmless">[^<]*used once/);
    expect(home.body).toContain('expires <span class="when">in 60 s</span>');

    server.clock.advance(63_000);
    expect((await browser.get('/')).body).toContain('expired <span class="when">3 s ago</span>');
  });

  it('shows the same trace on a reload and after a restart: it is stored with the session', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);
    const first = traceLines((await browser.get('/')).body);
    expect(first.length).toBeGreaterThan(10);

    server.clock.advance(20_000);
    expect(traceLines((await browser.get('/')).body)).toEqual(first);
    await server.restart();
    expect(traceLines((await browser.get('/')).body)).toEqual(first);
  });

  it('escapes what the token carried: a jti made of markup is shown as text', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const jti = '<img src=x onerror=alert(1)>"\'&';
    await signIn(server, browser, { claims: { jti } });

    const home = await browser.get('/');
    expect(home.statusCode).toBe(200);
    expect(home.body).not.toContain('<img');
    expect(home.body).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    expect(home.headers['content-security-policy']).toContain("script-src 'none'");
  });

  it('records a later sign-out everywhere as the tokens-valid-after it compared against', async () => {
    const server = await startServer2();
    await server.app.relyingParty.revocation.endAllSessions('user-alice', server.clock.nowSec() - 10);
    const browser = new Browser(server);
    await signIn(server, browser);

    const iso = new Date((server.clock.nowSec() - 10) * 1000).toISOString();
    expect(lineOf((await browser.get('/')).body, 'revocation')).toContain(
      `tokens-valid-after 10 s ago ${iso}`,
    );
  });
});
