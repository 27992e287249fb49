import { loadConfig } from '@jwt-handoff/server2';
import { ConfigError } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';
import { metricsAccessCases, type ResponseCase, securityHeaderCases } from '../hardening-cases.js';
import { startServer2 } from './helpers.js';

const start = (env: Record<string, string> = {}) => startServer2({ env });

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const RESPONSES: readonly ResponseCase[] = [
  ['a redirect (no session)', { url: '/', headers: { accept: 'text/html' } }, 303],
  ['a redirect that sets the state cookie (/handoff/start)', { url: '/handoff/start' }, 303],
  ['a page (signed out)', { url: '/signed-out' }, 200],
  ['JSON (/healthz)', { url: '/healthz' }, 200],
  ['a JSON refusal (/me without a session)', { url: '/me' }, 401],
  [
    'a refused token at the callback',
    { method: 'POST', url: '/handoff/callback', headers: form, payload: 'token=x' },
    400,
  ],
  ['an error page (an unknown txn)', { url: '/handoff/complete?txn=nope' }, 400],
  ['an API refusal with a challenge', { url: '/api/users/alice/activity' }, 401],
  ['a 404 (JSON)', { url: '/no/such/route' }, 404],
  ['a 404 (a page)', { url: '/no/such/route', headers: { accept: 'text/html' } }, 404],
  ['a URL the router refuses (bad percent-encoding)', { url: '/api/users/%zz/activity' }, 400],
  [
    'a refused body type',
    {
      method: 'POST',
      url: '/handoff/callback',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    },
    415,
  ],
  ['/metrics', { url: '/metrics' }, 200],
  ['a refused /metrics', { url: '/metrics', remoteAddress: '203.0.113.7' }, 403],
];

securityHeaderCases(start, {
  httpsUrl: 'https://app.example',
  cases: RESPONSES,
  page: { url: '/signed-out' },
});
metricsAccessCases(start);

describe('METRICS_TOKEN', () => {
  it('is unset by default', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });

  it('refuses a token shorter than 32 characters, naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'too-short' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: 'too-short' })).toThrow(/METRICS_TOKEN/);
  });
});
