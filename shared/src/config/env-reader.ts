/** Thrown at start when the environment holds bad values; the message names every variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

interface IntegerBounds {
  min?: number;
  max?: number;
}

/**
 * Reads typed values out of an environment, collecting every problem instead of stopping at the
 * first, so an operator fixes a broken deployment in one go. Call {@link EnvReader.finish} last.
 * An empty variable counts as unset.
 */
export class EnvReader {
  private readonly problems: string[] = [];
  private readonly badNames = new Set<string>();

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** The raw value, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  integer(name: string, fallback: number, bounds: IntegerBounds = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      return this.fail(name, `must be a whole number from ${min} to ${max}, got "${value}"`, fallback);
    }
    return parsed;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    return this.fail(name, `must be true or false, got "${value}"`, fallback);
  }

  /** An http(s) origin-style URL without query, fragment or credentials, with no trailing slash. */
  baseUrl(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    const problem = baseUrlProblem(value);
    if (problem) return this.fail(name, problem, fallback);
    return value.replace(/\/+$/, '');
  }

  /** A JSON value, checked by `parse`, which throws an Error whose message says what is wrong. */
  json<T>(name: string, fallback: T, parse: (value: unknown) => T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    let decoded: unknown;
    try {
      decoded = JSON.parse(value);
    } catch {
      return this.fail(name, 'is not valid JSON', fallback);
    }
    try {
      return parse(decoded);
    } catch (err) {
      return this.fail(name, (err as Error).message, fallback);
    }
  }

  /**
   * A duration, returned in milliseconds: a number with a unit (`500ms`, `90s`, `15m`, `12h`,
   * `30d`), or a bare number of seconds. Undefined when unset and no fallback is given.
   */
  duration(name: string, fallback?: number): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(value);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match?.[2] ?? 's') as 'ms'];
    const ms = match ? Number(match[1]) * unit : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms <= 0) {
      return this.fail(
        name,
        `must be a positive duration such as 90s, 15m, 12h or 30d, got "${value}"`,
        fallback,
      );
    }
    return ms;
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    return this.fail(name, `must be one of ${allowed.join(', ')}, got "${value}"`, fallback);
  }

  /** Records a problem found by a cross-variable check. */
  problem(name: string, message: string): void {
    this.problems.push(`${name} ${message}`);
    this.badNames.add(name);
  }

  /** Whether a problem was already recorded for `name` (later checks then need not add another). */
  hasProblem(name: string): boolean {
    return this.badNames.has(name);
  }

  /** Throws a {@link ConfigError} naming every bad variable, if there was any. */
  finish(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private fail<T>(name: string, message: string, fallback: T): T {
    this.problem(name, message);
    return fallback;
  }
}

/** Why `value` is not a usable base URL, or undefined when it is. */
export function baseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an absolute http(s) URL, got "${value}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https, got "${value}"`;
  // The raw text is checked too: a bare "?", "#" or "@" leaves the parsed fields empty.
  const authority = value.slice(value.indexOf('//') + 2).split(/[/?#]/)[0] ?? '';
  if (url.username || url.password || authority.includes('@')) return 'must not carry credentials';
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    return 'must not have a query or fragment';
  return undefined;
}
