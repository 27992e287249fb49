// Starts server2 as a real process (through the testkit), trusting the bench issuer's JWKS.
import { rmSync } from 'node:fs';
import { freePort, startService, tempDir } from '@jwt-handoff/testkit';

/** Resolves with { url, pid(), stop() }; `env` adds to or overrides server2's environment. */
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
    pid: () => service.pid(),
    output: () => service.output(),
    async stop() {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
