import { type Attack, type AttackResult, FAILING_VERDICTS, type Outcome } from './attack.js';
import { AttackerListener } from './attacker-listener.js';
import { CannotTestError } from './cannot-test.js';
import { ATTACKS, FINAL_CHECKS, qualifiedId } from './catalogue.js';
import type { AttackContext } from './context.js';
import { prepareDeployment } from './deployment.js';
import { Forger } from './forge.js';
import { Browser } from './http/browser.js';
import { RecordingClient } from './http/recording-client.js';
import { certificatePem, selfSignedCertificate } from './jws/self-signed-cert.js';
import { TokenSource } from './session/token-source.js';

/** Options of {@link runAttacks}. Durations in seconds. */
export interface RunOptions {
  /** server1's base URL, as browsers reach it. */
  server1: string;
  server2: string;
  /** A user of server1 to sign in as, and its password. */
  username: string;
  password: string;
  /** Runs only the attacks whose `family/id` matches. The whole-run checks always run. */
  only?: RegExp;
  /** The clock leeway assumed of the deployment. Default 5, its documented default. */
  leewaySec?: number;
  /**
   * The longest the run waits for a token to expire. Default 40: enough for `npm start`'s 30 s
   * handoff tokens plus the leeway, counted from the sign-in at the start of the run.
   */
  maxWaitSec?: number;
  /** Called with each result as it comes. */
  onResult?: (result: AttackResult) => void;
}

/** Defaults of {@link RunOptions}. */
export const RUN_DEFAULTS = Object.freeze({ leewaySec: 5, maxWaitSec: 40 });

/** What a run found; `exitCode` is what the command exits with. */
export interface Report {
  readonly server1: string;
  readonly server2: string;
  readonly user: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly results: readonly AttackResult[];
  /** Why the deployment could not be tested, when it could not. */
  readonly fatal: string | undefined;
  /** How many responses the deployment gave in the whole run. */
  readonly responses: number;
  /** 0 every attack refused; 1 an attack got through (or a check misbehaved); 2 not (fully) tested. */
  readonly exitCode: 0 | 1 | 2;
}

/**
 * Signs in to a running deployment as a browser would, fires every selected attack at it, then
 * makes the whole-run checks. It speaks HTTP only, to the two URLs it was given (and serves the
 * attacker's key documents on 127.0.0.1 for the `jku`/`x5u` attacks).
 */
export async function runAttacks(options: RunOptions): Promise<Report> {
  const started = Date.now();
  const server1 = options.server1.replace(/\/+$/, '');
  const server2 = options.server2.replace(/\/+$/, '');
  const http = new RecordingClient([server1, server2]);
  const listener = new AttackerListener();
  const results: AttackResult[] = [];
  let fatal: string | undefined;
  try {
    const selected = ATTACKS.filter((attack) => !options.only || options.only.test(qualifiedId(attack)));
    if (selected.length === 0)
      throw new CannotTestError(`--only ${options.only} matches no attack (see --list)`);
    await listener.listen();
    const credentials = { username: options.username, password: options.password };
    const attacker = new Browser(http);
    const deployment = await prepareDeployment(http, attacker, { server1, server2 }, credentials);
    const tokens = new TokenSource(deployment, attacker, credentials);
    const forge = new Forger(deployment);
    const key = forge.sameAlgKey;
    listener.serve(
      '/jwks.json',
      'application/json',
      JSON.stringify({ keys: [forge.eddsa.publicJwk, forge.es256.publicJwk] }),
    );
    listener.serve(
      '/cert.pem',
      'application/x-pem-file',
      certificatePem(selfSignedCertificate(key.publicKey, key.privateKey, 'attacker.invalid')),
    );
    const context: AttackContext = {
      deployment,
      http,
      attacker,
      tokens,
      forge,
      listener,
      settings: {
        credentials,
        leewaySec: options.leewaySec ?? RUN_DEFAULTS.leewaySec,
        maxWaitSec: options.maxWaitSec ?? RUN_DEFAULTS.maxWaitSec,
      },
      expiring: await tokens.fresh(),
      newBrowser: () => new Browser(http),
    };
    const inPhase = (phase: Attack['phase']) => selected.filter((attack) => attack.phase === phase);
    for (const attack of [...inPhase(undefined), ...inPhase('late'), ...inPhase('last'), ...FINAL_CHECKS]) {
      const result = await runOne(attack, context);
      results.push(result);
      options.onResult?.(result);
    }
  } catch (err) {
    if (!(err instanceof CannotTestError)) throw err;
    fatal = err.message;
  } finally {
    await Promise.all([http.close(), listener.close()]);
  }
  return {
    server1,
    server2,
    user: options.username,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    results,
    fatal,
    responses: http.exchanges.length,
    exitCode: exitCodeOf(results, fatal),
  };
}

async function runOne(attack: Attack, context: AttackContext): Promise<AttackResult> {
  const started = performance.now();
  let outcome: Outcome;
  try {
    outcome = await attack.run(context);
  } catch (err) {
    outcome = { verdict: 'error', got: err instanceof Error ? err.message : String(err) };
  }
  return {
    id: attack.id,
    family: attack.family,
    attack: attack.title,
    where: attack.where,
    expected: attack.expected,
    got: outcome.got,
    verdict: outcome.verdict,
    ms: Math.round(performance.now() - started),
  };
}

/** 1 when an attack got through or a check misbehaved, else 2 when something could not be tested, else 0. */
export function exitCodeOf(results: readonly AttackResult[], fatal: string | undefined): 0 | 1 | 2 {
  if (results.some((result) => FAILING_VERDICTS.includes(result.verdict))) return 1;
  if (fatal !== undefined || results.some((result) => result.verdict === 'error')) return 2;
  return 0;
}
