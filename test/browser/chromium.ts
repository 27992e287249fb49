import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createTrustingHome } from './nss-trust.js';

/** Debian's Chromium (package `chromium`); never a browser downloaded by a test tool. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where step screenshots go; .ci/run prints this folder. */
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? join(process.cwd(), 'test-artifacts', 'browser');

/** How {@link launchBrowser} sets Chromium up. */
export interface LaunchOptions {
  javaScriptEnabled?: boolean;
  /**
   * Host names that resolve to the loopback address in this browser only (nothing in /etc/hosts
   * changes). Default `server1.test` and `server2.test`: two different sites, as in production,
   * so the browser's SameSite rules apply between them for real.
   */
  hosts?: readonly string[];
  /**
   * CA certificates (PEM files) the browser trusts, as a user who added them would: Chromium
   * runs with a temporary HOME whose NSS database holds them (nss-trust.ts), and checks every
   * certificate against them. An empty list is a HOME whose database trusts nothing of its own.
   * Unset: Chromium's HOME is the test process's, as for the plain-http tests.
   */
  trustedCaFiles?: readonly string[];
}

/** Launches headless Chromium with a fresh profile (see {@link LaunchOptions}). */
export async function launchBrowser(options: LaunchOptions = {}): Promise<{
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  const hosts = options.hosts ?? ['server1.test', 'server2.test'];
  const home = options.trustedCaFiles ? createTrustingHome(options.trustedCaFiles) : undefined;
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const removeFolders = () => {
    rmSync(profile, { recursive: true, force: true });
    home?.remove();
  };
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      javaScriptEnabled: options.javaScriptEnabled ?? true,
      ...(home ? { env: { ...process.env, HOME: home.dir } } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--host-resolver-rules=${hosts.map((host) => `MAP ${host} 127.0.0.1`).join(', ')}`,
      ],
    });
  } catch (err) {
    removeFolders();
    throw err;
  }
  return {
    context,
    async close() {
      await context.close();
      removeFolders();
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
