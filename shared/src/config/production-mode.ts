import type { EnvReader } from './env-reader.js';

/** The variable that lets an http URL on a loopback host through production mode. */
export const ALLOW_INSECURE_LOOPBACK = 'ALLOW_INSECURE_LOOPBACK';

/** The shortest secret accepted, in characters. */
export const SECRET_MIN_LENGTH = 32;

/**
 * `NODE_ENV=production` (which the Dockerfile sets): the settings that the local demo's defaults
 * allow and a deployment must not have are refused at start, each by its variable
 * (docs/deployment.md, "Production mode"). Outside production every check here is a no-op.
 */
export class ProductionMode {
  /** Whether NODE_ENV is `production`. */
  readonly enabled: boolean;
  private readonly allowInsecureLoopback: boolean;

  constructor(private readonly read: EnvReader) {
    this.enabled = read.raw('NODE_ENV')?.toLowerCase() === 'production';
    this.allowInsecureLoopback = read.boolean(ALLOW_INSECURE_LOOPBACK, false);
  }

  /**
   * In production, records a problem for `name` unless `url` is https (see
   * {@link insecureUrlProblem}). Skipped when `name` is already reported as malformed, since its
   * value is then a fallback, not what the operator wrote.
   */
  requireHttps(name: string, url: string): void {
    if (this.read.hasProblem(name)) return;
    const problem = this.urlProblem(url);
    if (problem) this.read.problem(name, problem);
  }

  /** In production, why `url` may not be used (see {@link insecureUrlProblem}); otherwise undefined. */
  urlProblem(url: string): string | undefined {
    return this.enabled ? insecureUrlProblem(url, this.allowInsecureLoopback) : undefined;
  }

  /** In production, records `message` for `name`. */
  refuse(name: string, message: string): void {
    if (this.enabled) this.read.problem(name, message);
  }
}

/**
 * Why `url` may not be used in production, or undefined when it may: it must be https, except
 * that an http URL on a loopback host (localhost, 127.0.0.0/8, [::1]) passes when
 * `allowInsecureLoopback` is set, for a proxy or a sidecar on the same machine.
 */
export function insecureUrlProblem(url: string, allowInsecureLoopback: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // a malformed URL is reported by the reader that parsed it
  }
  if (parsed.protocol === 'https:') return undefined;
  if (!isLoopbackHost(parsed.hostname)) {
    return `must be an https URL in production, got "${url}"`;
  }
  if (allowInsecureLoopback) return undefined;
  return `must be an https URL in production, got "${url}" (for http on a loopback host, set ${ALLOW_INSECURE_LOOPBACK}=true)`;
}

/** Whether `hostname` (as `URL` gives it) names this machine: localhost, 127.0.0.0/8 or [::1]. */
export function isLoopbackHost(hostname: string): boolean {
  // URL has already normalised the host: lower case, IPv4 in dotted decimal (`127.1` is
  // `127.0.0.1`), IPv6 compressed in brackets.
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Why `secret` is too weak to sign with, or undefined when it is not. Weak means: shorter than
 * {@link SECRET_MIN_LENGTH} characters; fewer than 8 different characters (`xxxx…`,
 * `passwordpassword…`); one shorter run repeated (`abcabc…`); or mostly steps of -1, 0 or +1
 * between neighbours (`abcdef…`, `0123…`). A random secret (`openssl rand -base64 32`, or 32
 * hex digits) is practically never weak by these rules (under one in ten million). The message
 * never repeats the secret.
 */
export function weakSecretProblem(secret: string): string | undefined {
  const hint = '(e.g. `openssl rand -base64 32`)';
  if (secret.length < SECRET_MIN_LENGTH) return `must be at least ${SECRET_MIN_LENGTH} characters ${hint}`;
  const chars = [...secret];
  if (new Set(chars).size < 8 || isRepetition(chars) || isMostlySequential(chars)) {
    return `is too predictable (few different characters, a repeated run or a sequence): use a random one ${hint}`;
  }
  return undefined;
}

/** Whether `chars` is a shorter run, of at most half its length, repeated (the last copy may be cut short). */
function isRepetition(chars: readonly string[]): boolean {
  for (let period = 1; period <= chars.length / 2; period++) {
    if (chars.every((char, i) => i < period || char === chars[i - period])) return true;
  }
  return false;
}

/** Whether at least three quarters of neighbouring characters differ by -1, 0 or +1 code point. */
function isMostlySequential(chars: readonly string[]): boolean {
  let steps = 0;
  for (let i = 1; i < chars.length; i++) {
    const step = (chars[i]?.codePointAt(0) ?? 0) - (chars[i - 1]?.codePointAt(0) ?? 0);
    if (Math.abs(step) <= 1) steps++;
  }
  return steps >= (chars.length - 1) * 0.75;
}
