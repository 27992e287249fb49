import { loadConfig } from '@jwt-handoff/server1';
import { ConfigError } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

/** The ConfigError loadConfig throws for `env`; fails the test when it throws nothing else. */
function configError(env: Record<string, string | undefined>): ConfigError {
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
      handoffStepThrough: false,
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
    ['HANDOFF_STEP_THROUGH', { HANDOFF_STEP_THROUGH: 'yes please' }],
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

describe('TRUST_PROXY', () => {
  it.each([
    [{}, false],
    [{ TRUST_PROXY: '0' }, false],
    [{ TRUST_PROXY: '1' }, 1],
    [{ TRUST_PROXY: '2' }, 2],
    [{ TRUST_PROXY: '127.0.0.1' }, ['127.0.0.1']],
    [{ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8' }, ['127.0.0.1', '10.0.0.0/8', 'fd00::/8']],
    [{ TRUST_PROXY: 'loopback,uniquelocal' }, ['loopback', 'uniquelocal']],
  ])('reads %j as %j', (env, expected) => {
    expect(loadConfig(env).trustProxy).toEqual(expected);
  });

  it('refuses true, which believed any client, and says what to use instead', () => {
    const error = configError({ TRUST_PROXY: 'true' });

    expect(error.problems).toEqual([expect.stringMatching(/^TRUST_PROXY .*number of proxies.*\(e\.g\. 1\)/)]);
    expect(error.message).toContain('127.0.0.1,10.0.0.0/8');
  });

  it('refuses false, pointing to unset or 0', () => {
    expect(configError({ TRUST_PROXY: 'FALSE' }).problems).toEqual([
      expect.stringMatching(/^TRUST_PROXY .*unset, or set it to 0, for no proxy/),
    ]);
  });

  it.each(['yes', '11', '-1', '10.0.0.0/33', '10.0.0', '::1/129', '127.0.0.1,,10.0.0.1', 'proxy.internal'])(
    'refuses TRUST_PROXY=%j, naming it',
    (value) => {
      expect(configError({ TRUST_PROXY: value }).problems).toEqual([expect.stringMatching(/^TRUST_PROXY /)]);
    },
  );
});

describe('DATABASE_URL (server1 on PostgreSQL)', () => {
  it('keeps SQLite in DATA_DIR when unset, with bounded pool defaults', () => {
    expect(loadConfig({})).toMatchObject({
      databaseUrl: undefined,
      databasePoolMax: 10,
      databaseTimeoutMs: 2000,
      logoutDeliveryLeaseMs: 30_000,
    });
  });

  it.each(['postgres://s1:secret@db:5432/server1', 'postgresql://db/server1?sslmode=require'])(
    'reads %s',
    (url) => {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    },
  );

  it.each(['mysql://db/server1', 'db:5432', 'http://db/server1'])(
    'refuses DATABASE_URL=%s, naming the variable and not echoing the value',
    (url) => {
      const problems = configError({ DATABASE_URL: url }).problems;
      expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL must be a postgres:\/\//)]);
      expect(problems[0]).not.toContain(url);
    },
  );

  it('refuses a delivery lease shorter than three request timeouts', () => {
    expect(
      configError({ LOGOUT_REQUEST_TIMEOUT_MS: '2000', LOGOUT_DELIVERY_LEASE_MS: '5999' }).problems,
    ).toEqual([expect.stringMatching(/^LOGOUT_DELIVERY_LEASE_MS must be at least 3 times/)]);
  });

  it.each([
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_TIMEOUT_MS', '50'],
  ])('refuses %s=%s', (name, value) => {
    expect(configError({ [name]: value }).problems).toEqual([expect.stringMatching(new RegExp(`^${name} `))]);
  });
});

describe('production mode (NODE_ENV=production)', () => {
  const CLIENTS = JSON.stringify([
    {
      id: 'server2',
      redirect_uris: ['https://app.example/handoff/callback'],
      // Internal addresses may stay http inside a private network (docs/deployment.md).
      backchannel_logout_uri: 'http://server2:4002/backchannel-logout',
      api_url: 'http://server2:4002',
    },
  ]);
  const SAFE = { NODE_ENV: 'production', PUBLIC_URL: 'https://id.example', CLIENTS };

  it('starts with https public URLs, its own CLIENTS and no demo users', () => {
    const config = loadConfig(SAFE);

    expect(config.publicUrl).toBe('https://id.example');
    expect(config.clients[0]?.redirectUris).toEqual(['https://app.example/handoff/callback']);
  });

  it('refuses the local demo defaults, naming every variable in one error', () => {
    const error = configError({
      NODE_ENV: 'production',
      SEED_DEMO_USERS: 'true',
      DEMO_PASSWORD: 'password',
    });

    expect(error.problems).toHaveLength(3);
    expect(error.problems).toEqual([
      expect.stringMatching(/^PUBLIC_URL must be an https URL in production/),
      expect.stringMatching(/^CLIENTS must be set in production/),
      expect.stringMatching(/^SEED_DEMO_USERS must not be true in production/),
    ]);
  });

  it.each([
    ['PUBLIC_URL', { PUBLIC_URL: 'http://id.example' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'http://localhost:4001' }],
    ['CLIENTS', { CLIENTS: undefined }],
    ['CLIENTS', { CLIENTS: CLIENTS.replace('https://app.example', 'http://app.example') }],
    ['SEED_DEMO_USERS', { SEED_DEMO_USERS: 'true', DEMO_PASSWORD: 'a-long-demo-password' }],
  ])('refuses an unsafe %s, naming it', (variable, unsafe) => {
    const error = configError({ ...SAFE, ...unsafe });

    expect(error.problems).toEqual([expect.stringMatching(new RegExp(`^${variable} `))]);
  });

  it('accepts http on a loopback host only with ALLOW_INSECURE_LOOPBACK=true', () => {
    const loopback = {
      ...SAFE,
      PUBLIC_URL: 'http://127.0.0.1:4001',
      CLIENTS: CLIENTS.replace('https://app.example', 'http://localhost:4002'),
    };

    const error = configError(loopback);
    expect(error.problems).toEqual([
      expect.stringMatching(/^PUBLIC_URL .*ALLOW_INSECURE_LOOPBACK=true/),
      expect.stringMatching(/^CLIENTS redirect_uris of server2: .*ALLOW_INSECURE_LOOPBACK=true/),
    ]);
    expect(configError({ ...loopback, ALLOW_INSECURE_LOOPBACK: 'false' }).problems).toHaveLength(2);
    expect(loadConfig({ ...loopback, ALLOW_INSECURE_LOOPBACK: 'true' }).publicUrl).toBe(
      'http://127.0.0.1:4001',
    );
    // The opt-in is for loopback hosts only.
    expect(
      configError({ ...SAFE, PUBLIC_URL: 'http://id.example', ALLOW_INSECURE_LOOPBACK: 'true' }).problems,
    ).toEqual([
      expect.stringMatching(/^PUBLIC_URL must be an https URL in production, got "http:\/\/id.example"$/),
    ]);
  });

  it('names every http redirect URI of every client', () => {
    const clients = [
      { id: 'app', redirect_uris: ['https://app.example/cb', 'http://app.example/cb2'] },
      { id: 'billing', redirect_uris: ['http://billing.example/cb'] },
    ];

    expect(configError({ ...SAFE, CLIENTS: JSON.stringify(clients) }).problems).toEqual([
      'CLIENTS redirect_uris of app: must be an https URL in production, got "http://app.example/cb2"',
      'CLIENTS redirect_uris of billing: must be an https URL in production, got "http://billing.example/cb"',
    ]);
  });

  it('reports a malformed CLIENTS once, not also its fallback as unsafe', () => {
    expect(configError({ ...SAFE, CLIENTS: '[{"id":' }).problems).toEqual(['CLIENTS is not valid JSON']);
  });

  it('reports a malformed PUBLIC_URL once, not also as insecure', () => {
    expect(configError({ ...SAFE, PUBLIC_URL: 'id.example' }).problems).toEqual([
      expect.stringMatching(/^PUBLIC_URL must be an absolute http\(s\) URL/),
    ]);
  });

  it('checks nothing of this outside production', () => {
    expect(
      loadConfig({ NODE_ENV: 'development', SEED_DEMO_USERS: 'true', DEMO_PASSWORD: 'password' }),
    ).toMatchObject({
      publicUrl: 'http://localhost:4001',
      seedDemoUsers: true,
    });
  });

  it('refuses a bad ALLOW_INSECURE_LOOPBACK, naming it', () => {
    expect(configError({ ALLOW_INSECURE_LOOPBACK: 'sure' }).problems).toEqual([
      expect.stringMatching(/^ALLOW_INSECURE_LOOPBACK /),
    ]);
  });
});
