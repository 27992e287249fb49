import { startPair } from './service-process.js';

/** The two services an end-to-end test talks to. */
export interface E2eTarget {
  readonly server1Url: string;
  readonly server2Url: string;
  /** The password of the demo users alice and bob on this server1. */
  readonly demoPassword: string;
  /** Stops what this target started (nothing, for services run by someone else). */
  close(): Promise<void>;
}

/**
 * The services under test: those named by `SERVER1_URL` and `SERVER2_URL` (with the demo users'
 * password in `E2E_DEMO_PASSWORD`), as in the docker-compose run, or else a fresh pair of local
 * processes. The same tests run against both.
 */
export async function e2eTarget(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<E2eTarget> {
  const { SERVER1_URL: server1Url, SERVER2_URL: server2Url, E2E_DEMO_PASSWORD: demoPassword } = env;
  if (server1Url || server2Url) {
    if (!server1Url || !server2Url || !demoPassword) {
      throw new Error('set SERVER1_URL, SERVER2_URL and E2E_DEMO_PASSWORD together, or none of them');
    }
    return { server1Url, server2Url, demoPassword, close: async () => {} };
  }
  // Quick retries, so a delivery queued during an outage lands soon after the client is back.
  const pair = await startPair({ server1Env: { LOGOUT_RETRY_BASE_MS: '100', LOGOUT_RETRY_MAX_MS: '400' } });
  return {
    server1Url: pair.server1.url,
    server2Url: pair.server2.url,
    demoPassword: pair.demoPassword,
    close: () => pair.close(),
  };
}
