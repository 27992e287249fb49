import { loadConfig } from '@jwt-handoff/server1';
import { ConfigError } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

/** The ConfigError loadConfig throws for `env`; fails the test when it throws nothing else. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('works for the local demo with an empty environment', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      port: 4001,
      publicUrl: 'http://localhost:4001',
      handoffTokenTtlSec: 60,
      signingAlgorithm: 'EdDSA',
      seedDemoUsers: false,
    });
    expect(config.clients.map((client) => client.id)).toEqual(['server2']);
    expect(config.clients[0]?.redirectUris).toEqual(['http://localhost:4002/handoff/callback']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '4001abc' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'localhost:4001' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'ftp://localhost' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'http://localhost:4001/?x=1' }],
    ['CLIENTS', { CLIENTS: '[{"id":' }],
    ['CLIENTS', { CLIENTS: '[]' }],
    ['CLIENTS', { CLIENTS: '[{"id":"server2","redirect_uris":["not a url"]}]' }],
    [
      'CLIENTS',
      {
        CLIENTS:
          '[{"id":"a","redirect_uris":["http://a.example/cb"]},{"id":"a","redirect_uris":["http://a.example/cb"]}]',
      },
    ],
    ['DEMO_PASSWORD', { SEED_DEMO_USERS: 'true' }],
    ['HANDOFF_TOKEN_TTL', { HANDOFF_TOKEN_TTL: '301' }],
    ['HANDOFF_TOKEN_TTL', { HANDOFF_TOKEN_TTL: '0' }],
    ['SERVICE_ID', { SERVICE_ID: 'server 1' }],
    ['SERVICE_ID', { SERVICE_ID: 's'.repeat(65) }],
    ['SERVICE_CALL_TIMEOUT_MS', { SERVICE_CALL_TIMEOUT_MS: '99' }],
    ['SERVICE_CALL_TIMEOUT_MS', { SERVICE_CALL_TIMEOUT_MS: '30001' }],
    ['SERVICE_CALL_TIMEOUT_MS', { SERVICE_CALL_TIMEOUT_MS: '1.5s' }],
    ['LOGOUT_RETRY_BASE_MS', { LOGOUT_RETRY_BASE_MS: '9' }],
    ['LOGOUT_RETRY_BASE_MS', { LOGOUT_RETRY_BASE_MS: 'fast' }],
    ['LOGOUT_RETRY_MAX_MS', { LOGOUT_RETRY_MAX_MS: '-1' }],
    ['LOGOUT_DELIVERY_MAX_AGE_MS', { LOGOUT_DELIVERY_MAX_AGE_MS: '999' }],
    ['LOGOUT_DELIVERY_MAX_AGE_MS', { LOGOUT_DELIVERY_MAX_AGE_MS: '1e9' }],
    ['LOGOUT_REQUEST_TIMEOUT_MS', { LOGOUT_REQUEST_TIMEOUT_MS: '99' }],
    ['LOGOUT_REQUEST_TIMEOUT_MS', { LOGOUT_REQUEST_TIMEOUT_MS: '60001' }],
  ])('refuses a bad %s, naming it', (variable, env) => {
    expect(configError(env).message).toContain(variable);
  });

  it('names every bad variable in one error', () => {
    const error = configError({
      PORT: 'eighty',
      PUBLIC_URL: 'not a url',
      CLIENTS: '{not json',
      SEED_DEMO_USERS: 'true',
      HANDOFF_TOKEN_TTL: '301',
    });

    expect(error.problems).toHaveLength(5);
    for (const variable of ['PORT', 'PUBLIC_URL', 'CLIENTS', 'DEMO_PASSWORD', 'HANDOFF_TOKEN_TTL']) {
      expect(error.message).toContain(variable);
    }
  });

  it('gives service calls and back-channel logout working defaults', () => {
    expect(loadConfig({})).toMatchObject({
      serviceId: 'server1',
      serviceCallTimeoutMs: 1_500,
      logoutRetryBaseMs: 500,
      logoutRetryMaxMs: 300_000,
      logoutDeliveryMaxAgeMs: 86_400_000,
      logoutRequestTimeoutMs: 3_000,
    });
  });

  it('reads the service call and back-channel logout settings', () => {
    const config = loadConfig({
      SERVICE_ID: 'dashboard.svc-1',
      SERVICE_CALL_TIMEOUT_MS: '300',
      LOGOUT_RETRY_BASE_MS: '20',
      LOGOUT_RETRY_MAX_MS: '100',
      LOGOUT_DELIVERY_MAX_AGE_MS: '1000',
      LOGOUT_REQUEST_TIMEOUT_MS: '100',
    });

    expect(config).toMatchObject({
      serviceId: 'dashboard.svc-1',
      serviceCallTimeoutMs: 300,
      logoutRetryBaseMs: 20,
      logoutRetryMaxMs: 100,
      logoutDeliveryMaxAgeMs: 1_000,
      logoutRequestTimeoutMs: 100,
    });
  });

  it('accepts the longest handoff token lifetime, 300 seconds', () => {
    expect(loadConfig({ HANDOFF_TOKEN_TTL: '300' }).handoffTokenTtlSec).toBe(300);
  });
});
