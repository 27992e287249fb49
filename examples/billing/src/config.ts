import { EnvReader, weakSecretProblem } from '@jwt-handoff/shared';
import type { BillingAppOptions } from './billing-app.js';

/** The billing example's settings: where it listens, and the app's own options. */
export interface BillingConfig extends BillingAppOptions {
  readonly port: number;
  readonly host: string;
}

/**
 * Reads the billing example's configuration from `env`, in the services' style: every bad value
 * is reported at once, naming its variable. SESSION_SECRET has no default: unlike server2, the
 * example does not generate and keep one (the demo passes a fresh one each run).
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): BillingConfig {
  const read = new EnvReader(env);
  const issuer = read.baseUrl('ISSUER_URL', 'http://localhost:4001');
  const sessionSecret = read.raw('SESSION_SECRET');
  if (sessionSecret === undefined)
    read.problem('SESSION_SECRET', 'must be set (e.g. `openssl rand -base64 32`)');
  else {
    const weak = weakSecretProblem(sessionSecret);
    if (weak) read.problem('SESSION_SECRET', weak);
  }
  const jwksUrl = read.raw('JWKS_URL');
  if (jwksUrl !== undefined && !/^https?:\/\/[^/]/.test(jwksUrl)) {
    read.problem('JWKS_URL', `must be an absolute http(s) URL, got "${jwksUrl}"`);
  }
  const config: BillingConfig = {
    port: read.integer('PORT', 4003, { min: 0, max: 65535 }),
    host: read.string('HOST', '127.0.0.1'),
    publicUrl: read.baseUrl('PUBLIC_URL', 'http://localhost:4003'),
    issuer,
    ...(jwksUrl !== undefined ? { jwksUrl } : {}),
    sessionSecret: sessionSecret ?? '',
    dataDir: read.string('DATA_DIR', 'data/billing'),
  };
  read.finish();
  return Object.freeze(config);
}
