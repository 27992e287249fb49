import { runKeysCommand, type ServicePair, startPair } from '@jwt-handoff/testkit';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsScreenshot, launchBrowser } from './chromium.js';

// The demo as `npm start` runs it (step-through handoff on), walked in a real Chromium: what each
// page teaches is checked against the facts it claims, and the README's screenshots are taken here.

/** One line of server2's verification trace, as the page shows it. */
interface TraceLine {
  check: string;
  text: string;
  /** Each compared value by its label, as shown (a time as "in 60 s 2030-…Z"). */
  values: Record<string, string>;
}

async function traceLines(page: Page): Promise<TraceLine[]> {
  return page.$$eval('#trace-lines > li', (items) =>
    items.map((item) => ({
      check: item.getAttribute('data-check') ?? '',
      text: (item.textContent ?? '').replace(/\s+/g, ' ').trim(),
      values: Object.fromEntries(
        Array.from(item.querySelectorAll('.value')).map((value) => [
          value.getAttribute('data-label') ?? '',
          (value.textContent ?? '')
            .replace(/\s+/g, ' ')
            .trim()
            .slice((value.getAttribute('data-label') ?? '').length)
            .trim(),
        ]),
      ),
    })),
  );
}

/** The header and claims of the raw token the trace page shows (its first two segments are whole). */
async function shownToken(page: Page) {
  const raw = (await page.textContent('#raw-token')) ?? '';
  const [header, claims] = raw.split('.').map((part) => {
    try {
      return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
  });
  return { raw, header, claims };
}

const iso = (sec: number) => new Date(sec * 1000).toISOString();

describe('the demo teaches what the JWT step did', () => {
  let pair: ServicePair;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let jwksUrl: string;

  beforeAll(async () => {
    pair = await startPair({
      server1Host: 'server1.test',
      server2Host: 'server2.test',
      // As in `npm start`; and a short key timeline, so a rotation signs within seconds.
      server1Env: { HANDOFF_STEP_THROUGH: 'true', JWKS_MAX_AGE_SEC: '1', KEY_TIMING_MARGIN_MS: '500' },
    });
    jwksUrl = pair.server2.env.JWKS_URL as string;
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.setViewportSize({ width: 1000, height: 800 });
  });
  afterAll(async () => {
    await browser?.close();
    await pair?.close();
  });

  /** From the step-through page: checks what it shows, presses Continue, lands on server2's trace. */
  async function continueHandoff(screenshotName?: string): Promise<string> {
    await page.waitForURL(/\/handoff\/authorize\?/);
    const state = new URL(page.url()).searchParams.get('state') as string;
    const claims = JSON.parse((await page.textContent('#handoff-token-claims')) ?? '{}');
    const header = JSON.parse((await page.textContent('#handoff-token-header')) ?? '{}');
    expect(header).toMatchObject({ typ: 'handoff+jwt', alg: 'EdDSA' });
    expect(claims).toMatchObject({
      iss: pair.server1.url,
      aud: 'server2',
      nonce: state,
      sub: expect.any(String),
    });
    expect(await page.textContent('#post-target')).toBe(`POST ${pair.server2.url}/handoff/callback`);
    // What the form will post is exactly the token shown.
    const posted = await page.inputValue('form input[name="token"]');
    expect(JSON.parse(Buffer.from(posted.split('.')[1] as string, 'base64url').toString())).toEqual(claims);
    if (screenshotName) await docsScreenshot(page, screenshotName);
    await Promise.all([page.waitForURL(`${pair.server2.url}/`), page.click('#continue')]);
    await page.waitForSelector('#trace-lines');
    return state;
  }

  /** Checks every trace line against the token the page shows and the services' settings. */
  async function expectTrueTrace(state: string): Promise<TraceLine[]> {
    const lines = await traceLines(page);
    const { header, claims } = await shownToken(page);
    expect(lines.map((line) => line.check)).toEqual([
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
    const line = (check: string) => lines.find((candidate) => candidate.check === check) as TraceLine;
    expect(line('header').values).toMatchObject({ alg: 'EdDSA', kid: header.kid, typ: 'handoff+jwt' });
    expect(line('signature').values).toMatchObject({ kid: header.kid, 'key set from': jwksUrl });
    expect(line('typ').values).toEqual({ token: 'handoff+jwt', expected: 'handoff+jwt' });
    expect(line('iss').values).toEqual({ token: pair.server1.url, configured: pair.server1.url });
    expect(line('aud').values).toEqual({ token: 'server2', 'client id': 'server2' });
    expect(line('exp').values.exp).toContain(iso(claims.exp));
    expect(line('exp').values.leeway).toBe('5 s');
    expect(line('iat').values.iat).toContain(iso(claims.iat));
    expect(line('nbf').values.nbf).toContain('absent');
    expect(line('lifetime').values).toEqual({ 'exp − iat': `${claims.exp - claims.iat} s`, cap: '300 s' });
    expect(line('jti').values).toMatchObject({ jti: claims.jti, use: 'first' });
    expect(line('jti').values['recorded until']).toContain(iso(claims.exp + 5));
    expect(line('nonce').values).toMatchObject({ nonce: state, 'state cookie': state });
    expect(claims.nonce).toBe(state);
    expect(line('revocation').values['tokens-valid-after']).toContain('never set');
    expect(line('revocation').values.sid).toBe(`${claims.sid} not signed out`);
    expect(await page.textContent('#token-harmless')).toContain('used once');
    return lines;
  }

  /** Signs out of server2 and signs in again through server1 (no password: its session lives). */
  async function handoffAgain(): Promise<string> {
    await Promise.all([
      page.waitForURL(`${pair.server2.url}/signed-out`),
      page.click('text=Sign out of server2'),
    ]);
    await page.click('text=Sign in with server1');
    return continueHandoff();
  }

  it('walks sign-in, the step-through handoff, the trace, a reload and the dashboard', async () => {
    await page.goto(`${pair.server2.url}/`);
    expect(page.url()).toMatch(new RegExp(`^${pair.server1.url}/login\\?`));
    expect(await page.textContent('#requested-by')).toContain('server2 asked server1 to sign you in');
    await page.fill('#username', 'alice');
    await page.fill('#password', pair.demoPassword);
    await docsScreenshot(page, 'sign-in');
    await page.click('button[type=submit]');

    const state = await continueHandoff('step-through');
    const lines = await expectTrueTrace(state);
    // server2 fetched server1's keys when it started, so this lookup was answered from memory.
    expect(lines[1]?.values['key lookup']).toContain('cache hit');
    await docsScreenshot(page, 'trace');

    await page.reload();
    expect(await traceLines(page)).toEqual(lines);

    await page.goto(`${pair.server1.url}/`);
    const panel = page.locator('section.activity[data-client="server2"]');
    expect(await panel.locator('[data-route]').textContent()).toBe('GET /api/users/:sub/activity');
    expect(await panel.locator('[data-status]').textContent()).toBe('200');
    expect(await panel.locator('[data-duration]').textContent()).toMatch(/^\d+ ms$/);
    const serviceHeader = JSON.parse((await page.textContent('#service-token-server2-header')) ?? '{}');
    const serviceClaims = JSON.parse((await page.textContent('#service-token-server2-claims')) ?? '{}');
    expect(serviceHeader).toMatchObject({ typ: 'service+jwt' });
    expect(serviceClaims).toMatchObject({ iss: pair.server1.url, aud: 'server2', scope: 'activity:read' });
    await docsScreenshot(page, 'dashboard');
  });

  it('says a second handoff within the cache window was a cache hit', async () => {
    await page.goto(`${pair.server2.url}/`);
    const state = await handoffAgain();
    const lines = await expectTrueTrace(state);
    expect(lines[1]?.values['key lookup']).toBe('cache hit (held key set, no request)');
  });

  it('shows the new kid for a token signed by a rotated key', async () => {
    const { stdout } = await runKeysCommand(pair.server1.env, ['rotate']);
    const newKid = /new key (\S+)/.exec(stdout)?.[1] as string;
    const signFrom = Date.parse(/signs from (\S+)/.exec(stdout)?.[1] ?? '');
    expect(newKid).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, signFrom - Date.now()) + 500));

    await page.goto(`${pair.server2.url}/`);
    const state = await handoffAgain();
    const lines = await expectTrueTrace(state);
    expect(lines[0]?.values.kid).toBe(newKid);
    expect(lines[1]?.values.kid).toBe(newKid);
  });
});
