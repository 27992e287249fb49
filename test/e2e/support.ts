import { type Browser, type E2eTarget, e2eTarget } from '@jwt-handoff/testkit';
import { afterAll, beforeAll } from 'vitest';

/** The status server2's /me gives `browser`: 200 signed in, 401 not. */
export async function meStatus(browser: Browser, server2Url: string): Promise<number> {
  return (await browser.fetch('GET', `${server2Url}/me`)).status;
}

/**
 * Registers the hooks that bring the e2e target (local processes, or SERVER1_URL/SERVER2_URL)
 * up for a file and down after it; the returned object is filled in by `beforeAll`.
 */
export function useE2eTarget(): { target: E2eTarget; alice: { username: string; password: string } } {
  const state = {} as { target: E2eTarget; alice: { username: string; password: string } };
  beforeAll(async () => {
    state.target = await e2eTarget();
    state.alice = { username: 'alice', password: state.target.demoPassword };
  });
  afterAll(async () => {
    await state.target?.close();
  });
  return state;
}
