import {
  type ConfigError,
  EnvReader,
  fastifyTrustProxy,
  readTrustProxy,
  type TrustProxy,
} from '@jwt-handoff/shared';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

function read(value: string | undefined): { trust: TrustProxy; problems: readonly string[] } {
  const reader = new EnvReader({ TRUST_PROXY: value });
  const trust = readTrustProxy(reader);
  try {
    reader.finish();
    return { trust, problems: [] };
  } catch (err) {
    return { trust, problems: (err as ConfigError).problems };
  }
}

/** The request.ip a fastify app with `trust` gives a request from `remoteAddress` with `forwardedFor`. */
async function clientAddress(trust: TrustProxy, remoteAddress: string, forwardedFor: string) {
  const app = Fastify({ trustProxy: fastifyTrustProxy(trust) });
  app.get('/', async (request) => request.ip);
  try {
    const response = await app.inject({
      url: '/',
      remoteAddress,
      headers: { 'x-forwarded-for': forwardedFor },
    });
    return response.body;
  } finally {
    await app.close();
  }
}

describe('readTrustProxy', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['0', false],
    ['1', 1],
    ['10', 10],
    ['::1', ['::1']],
    ['10.0.0.0/8 , 192.168.0.0/16,2001:db8::/32', ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32']],
    ['loopback,linklocal,uniquelocal', ['loopback', 'linklocal', 'uniquelocal']],
  ])('reads %j as %j', (value, expected) => {
    expect(read(value)).toEqual({ trust: expected, problems: [] });
  });

  it.each([
    ['true', /no longer takes "true".*number of proxies in front of the service \(e\.g\. 1\)/],
    ['True', /no longer takes "true"/],
    ['false', /no longer takes "false": leave it unset, or set it to 0, for no proxy/],
    ['11', /hop count from 0 to 10/],
    ['10.0.0.0/8,proxy', /not an address: "proxy"/],
    ['10.0.0.0/', /not an address: "10.0.0.0\/"/],
    ['10.0.0.0/8/8', /not an address/],
    ['1.2.3.4/33', /not an address/],
    ['1,2', /not an address: "1", "2"/],
  ])('refuses %j, naming TRUST_PROXY, and trusts no one', (value, message) => {
    const { trust, problems } = read(value);

    expect(trust).toBe(false);
    expect(problems).toEqual([expect.stringMatching(/^TRUST_PROXY /)]);
    expect(problems[0]).toMatch(message);
  });
});

describe('fastifyTrustProxy', () => {
  const FORWARDED = '203.0.113.66, 198.51.100.7';

  it('with no proxy, takes the socket address', async () => {
    expect(await clientAddress(false, '10.0.0.2', FORWARDED)).toBe('10.0.0.2');
  });

  it('with one hop, takes the address the proxy appended (the right-most)', async () => {
    expect(await clientAddress(1, '10.0.0.2', FORWARDED)).toBe('198.51.100.7');
  });

  it('with two hops, takes the address the outer proxy appended', async () => {
    expect(await clientAddress(2, '10.0.0.2', '203.0.113.66, 198.51.100.7, 10.0.0.9')).toBe('198.51.100.7');
  });

  it('with a list, believes only a listed proxy', async () => {
    expect(await clientAddress(['10.0.0.0/8'], '10.0.0.2', FORWARDED)).toBe('198.51.100.7');
    expect(await clientAddress(['10.0.0.0/8'], '192.0.2.1', FORWARDED)).toBe('192.0.2.1');
    expect(await clientAddress(['loopback', '10.0.0.0/8'], '127.0.0.1', '203.0.113.66, 10.0.0.9')).toBe(
      '203.0.113.66',
    );
  });
});
