import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { freePort, startPair, startService, tempDir } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';

// NODE_ENV=production, as the Dockerfile sets it, through the real entry points (main.ts reads
// process.env): a service refuses the demo's settings before it listens, naming every variable.

/** What a service printed when it refused to start with `env`. */
async function refusal(name: 'server1' | 'server2', env: Record<string, string>): Promise<string> {
  const dataDir = tempDir(name);
  const port = await freePort();
  try {
    const started = startService(
      name,
      { PORT: String(port), DATA_DIR: dataDir, ...env },
      { timeoutMs: 10_000 },
    );
    const error = await started.then(
      async (service) => {
        await service.stop();
        throw new Error(`${name} started with ${JSON.stringify(env)}`);
      },
      (err: Error) => err,
    );
    expect(error.message).toContain('the process exited (1)');
    return error.message;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('production mode of the real processes', () => {
  it('server1 refuses an http PUBLIC_URL, the default CLIENTS and demo users, in one message', async () => {
    const output = await refusal('server1', {
      NODE_ENV: 'production',
      PUBLIC_URL: 'http://id.example',
      SEED_DEMO_USERS: 'true',
      DEMO_PASSWORD: 'password',
    });

    expect(output).toContain('server1: cannot start: invalid configuration:');
    expect(output).toMatch(/- PUBLIC_URL must be an https URL in production/);
    expect(output).toMatch(/- CLIENTS must be set in production/);
    expect(output).toMatch(/- SEED_DEMO_USERS must not be true in production/);
  });

  it('server2 refuses http ISSUER_URL and JWKS_URL and a missing SESSION_SECRET, in one message', async () => {
    const output = await refusal('server2', {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://app.example',
      ISSUER_URL: 'http://id.example',
      JWKS_URL: 'http://server1:4001/.well-known/jwks.json',
    });

    expect(output).toContain('server2: cannot start: invalid configuration:');
    expect(output).toMatch(/- ISSUER_URL must be an https URL in production/);
    expect(output).toMatch(/- JWKS_URL must be an https URL in production/);
    expect(output).toMatch(/- SESSION_SECRET must be set in production/);
    expect(output).not.toMatch(/- PUBLIC_URL/);
  });

  it('both start, and server2 gets the keys, with safe settings and loopback http opted in', async () => {
    const production = { NODE_ENV: 'production', ALLOW_INSECURE_LOOPBACK: 'true' };
    const pair = await startPair({
      server1Env: { ...production, SEED_DEMO_USERS: 'false' },
      server2Env: { ...production, SESSION_SECRET: randomBytes(32).toString('base64') },
    });
    try {
      // startPair waited for /readyz: server2 is ready once it holds server1's keys.
      expect((await fetch(`${pair.server2.url}/readyz`)).status).toBe(200);
      expect(pair.server1.url).toMatch(/^http:\/\/localhost:/);
    } finally {
      await pair.close();
    }
  });
});
