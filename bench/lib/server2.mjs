// @ts-check
// Starts server2 as a real process (through the testkit), trusting the bench issuer's JWKS.
import { rmSync } from 'node:fs';
import { freePort, startService, tempDir } from '@jwt-handoff/testkit';

/** @import { Issuer } from './issuer.mjs' */

/**
 * Resolves with { url, pid(), output(), stop() }; `env` adds to or overrides server2's environment.
 * @param {Pick<Issuer, 'url' | 'jwksUrl'>} issuer
 * @param {Record<string, string>} [env]
 * @param {{ nodeFlags?: string[] }} [options]
 */
export async function startServer2(issuer, env = {}, { nodeFlags = [] } = {}) {
  const port = await freePort();
  const dataDir = tempDir('bench-server2');
  const url = `http://127.0.0.1:${port}`;
  const service = await startService(
    'server2',
    {
      PORT: String(port),
      PUBLIC_URL: url,
      ISSUER_URL: issuer.url,
      JWKS_URL: issuer.jwksUrl,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...env,
    },
    { execArgv: nodeFlags },
  );
  return {
    url,
    /** The running process's id; throws while it is stopped. */
    pid: () => {
      const pid = service.pid();
      if (pid === undefined) throw new Error('server2 is not running');
      return pid;
    },
    output: () => service.output(),
    async stop() {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
