import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatReport, type Report, runAttacks } from '@jwt-handoff/attack';
import { freePort, type ServicePair, startPair, tempDir, within } from '@jwt-handoff/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKEN_APPS } from '../../apps/broken/index.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.resolve('@jwt-handoff/attack')));

/** The attacks that got through or were refused the wrong way, as `family/id`. */
function failed(report: Pick<Report, 'results'>): string[] {
  return report.results
    .filter((result) => result.verdict === 'succeeded' || result.verdict === 'unexpected')
    .map((result) => `${result.family}/${result.id}`);
}

/** Runs `npm run attack` (the compiled CLI) as a child process. */
function attackCommand(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout, stderr }),
    );
  });
}

// `npm run attack` against real processes: a sound pair must refuse every attack, and each of six
// relying apps with one check taken out (test/apps/broken) must be caught by the attacks aimed at
// that check. Handoff tokens live 5 s here, so the expiry attack waits them out.
describe('npm run attack', () => {
  let pair: ServicePair;
  const apps = new Map<string, { app: FastifyInstance; url: string; dataDir: string }>();

  beforeAll(async () => {
    const ports = new Map<string, number>();
    for (const broken of BROKEN_APPS) ports.set(broken.id, await freePort());
    pair = await startPair({
      server1Env: { HANDOFF_TOKEN_TTL: '5', LOGOUT_RETRY_BASE_MS: '100', LOGOUT_RETRY_MAX_MS: '400' },
      moreClients: BROKEN_APPS.map((broken) => ({
        id: broken.id,
        redirect_uris: [`http://localhost:${ports.get(broken.id)}/handoff/callback`],
        backchannel_logout_uri: `http://127.0.0.1:${ports.get(broken.id)}/backchannel-logout`,
      })),
    });
    for (const broken of BROKEN_APPS) {
      const port = ports.get(broken.id) as number;
      const url = `http://localhost:${port}`;
      const dataDir = tempDir(broken.id);
      const app = await broken.build({
        issuer: pair.server1.url,
        jwksUrl: `http://127.0.0.1:${new URL(pair.server1.url).port}/.well-known/jwks.json`,
        publicUrl: url,
        clientId: broken.id,
        dataDir,
      });
      apps.set(broken.id, { app, url, dataDir });
      await app.listen({ port, host: '127.0.0.1' });
      await within(5000, async () => app.relyingParty.isReady());
    }
  }, 60_000);

  afterAll(async () => {
    for (const { app, dataDir } of apps.values()) {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    await pair?.close();
  });

  // The cross-site sign-out attacks are left out here: they aim at server1's and server2's own
  // sign-out forms, which no broken app changes, and one that got through would sign alice out
  // everywhere and carry into the next app's run through the back-channel.
  it.each(BROKEN_APPS)(
    'catches the relying app whose $flaw ($id)',
    async (broken) => {
      const report = await runAttacks({
        server1: pair.server1.url,
        server2: apps.get(broken.id)?.url as string,
        username: 'alice',
        password: pair.demoPassword,
        maxWaitSec: 0,
        only: /^(?!flow\/csrf-server[12]-logout)/,
      });

      const table = formatReport(report);
      expect(report.fatal, table).toBeUndefined();
      expect(report.exitCode, table).toBe(1);
      expect(failed(report), table).toEqual(expect.arrayContaining([...broken.caughtBy]));
      // Nothing else is flagged: the tool points at the flaw, not at everything.
      const families = new Set(failed(report).map((id) => id.split('/')[0]));
      expect([...families].sort(), table).toEqual([...broken.families].sort());
    },
    60_000,
  );

  it('refuses every attack against the sound pair, in a run of under 60 s', async () => {
    const json = join(tempDir('attack-report'), 'attack.json');
    const run = await attackCommand([
      '--server1',
      pair.server1.url,
      '--server2',
      pair.server2.url,
      '--password',
      pair.demoPassword,
      '--json',
      json,
    ]);

    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    rmSync(join(json, '..'), { recursive: true, force: true });
    const table = `${run.stdout}\n${run.stderr}`;
    expect(failed(report), table).toEqual([]);
    expect(report.fatal, table).toBeUndefined();
    expect(run.code, table).toBe(0);
    const verdictOf = (id: string) =>
      report.results.find((result) => `${result.family}/${result.id}` === id)?.verdict;
    // Nothing left out: the expired token was waited for, and server1 lists the broken apps, so
    // a token for another audience could be had; /metrics is reachable.
    expect(verdictOf('claims/expired'), table).toBe('refused');
    expect(verdictOf('claims/other-audience'), table).toBe('refused');
    expect(verdictOf('key-selection/unknown-kid-fetches'), table).toBe('refused');
    expect(
      report.results.filter((result) => result.verdict === 'error'),
      table,
    ).toEqual([]);
    expect(report.results.length, table).toBeGreaterThan(100);
    expect(report.durationMs, table).toBeLessThan(60_000);
    expect(run.stdout).toMatch(/attack +where +expected +got +verdict/);
  }, 90_000);

  it('exits 2, saying why, when it cannot sign in', async () => {
    const run = await attackCommand([
      '--server1',
      pair.server1.url,
      '--server2',
      pair.server2.url,
      '--password',
      'not-the-password',
    ]);

    expect(run.code, run.stdout).toBe(2);
    // A browser's failed sign-in is a 303 back to the form (post/redirect/get), which the tool reads as refused.
    expect(run.stdout).toContain(
      'Could not test the deployment: signing in to server1 as alice failed: 303 back to the sign-in form (check --user and --password',
    );
  }, 30_000);
});
