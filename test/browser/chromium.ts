import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (package `chromium`); never a browser downloaded by a test tool. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where step screenshots go; .ci/run prints this folder. */
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? join(process.cwd(), 'test-artifacts', 'browser');

/**
 * Launches headless Chromium with a fresh profile. `server1.test` and `server2.test` resolve to
 * the loopback address, so the two services are two different sites, as in production, and the
 * browser's SameSite rules apply between them for real.
 */
export async function launchBrowser(options: { javaScriptEnabled?: boolean } = {}): Promise<{
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP server1.test 127.0.0.1, MAP server2.test 127.0.0.1',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot named `name` (a step of a scenario). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Where the README's screenshots live; `npm run screenshots` refreshes them. */
export const DOCS_SCREENSHOT_DIR = join(process.cwd(), 'docs', 'screenshots');

/**
 * Saves a screenshot the README shows, named `name`: always to {@link SCREENSHOT_DIR} (what CI
 * keeps), and to docs/screenshots when UPDATE_DOCS_SCREENSHOTS=1 (`npm run screenshots`), so that
 * an ordinary test run never rewrites tracked files.
 */
export async function docsScreenshot(page: Page, name: string): Promise<void> {
  await screenshot(page, `docs-${name}`);
  if (process.env.UPDATE_DOCS_SCREENSHOTS !== '1') return;
  mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(DOCS_SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
