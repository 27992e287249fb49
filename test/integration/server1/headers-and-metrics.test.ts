import { loadConfig } from '@jwt-handoff/server1';
import { ConfigError } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';
import { metricsAccessCases, type ResponseCase, securityHeaderCases } from '../hardening-cases.js';
import { startServer1 } from './helpers.js';

const start = (env: Record<string, string> = {}) => startServer1({ env });

const RESPONSES: readonly ResponseCase[] = [
  ['a page (the login form)', { url: '/login' }, 200],
  ['a redirect (no session)', { url: '/' }, 303],
  ['JSON (/healthz)', { url: '/healthz' }, 200],
  ['the JWKS', { url: '/.well-known/jwks.json' }, 200],
  ['an error page (an unknown client)', { url: '/handoff/authorize?client_id=nobody&state=s' }, 400],
  ['a 404 (JSON)', { url: '/no/such/route' }, 404],
  ['a 404 (a page)', { url: '/no/such/route', headers: { accept: 'text/html' } }, 404],
  ['a URL the router refuses (bad percent-encoding)', { url: '/login%zz' }, 400],
  [
    'a refused body type',
    { method: 'POST', url: '/login', headers: { 'content-type': 'application/json' }, payload: '{}' },
    415,
  ],
  ['/metrics', { url: '/metrics' }, 200],
  ['a refused /metrics', { url: '/metrics', remoteAddress: '203.0.113.7' }, 403],
];

securityHeaderCases(start, { httpsUrl: 'https://id.example', cases: RESPONSES, page: { url: '/login' } });
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
