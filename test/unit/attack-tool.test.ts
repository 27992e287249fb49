import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ATTACKS,
  type AttackResult,
  CLI_DEFAULTS,
  ed25519SPlusL,
  es256HighS,
  exitCodeOf,
  FINAL_CHECKS,
  formatReport,
  offSitePayloads,
  parseCliOptions,
  qualifiedId,
  redirectUriPayloads,
  secretForms,
  withSpareBits,
} from '@jwt-handoff/attack';
import { describe, expect, it } from 'vitest';

const row = (verdict: AttackResult['verdict'], id = 'x'): AttackResult => ({
  id,
  family: 'signature',
  attack: id,
  where: 'server2 POST /handoff/callback',
  expected: '400 unsupported_alg',
  got: verdict === 'refused' ? '400 unsupported_alg' : '303 → /handoff/complete?txn=…',
  verdict,
  ms: 1,
});

describe('the attack tool (npm run attack)', () => {
  it('has at least 30 distinct encodings of another host for return_to and redirect_uri', () => {
    const payloads = offSitePayloads('http://localhost:4002');
    expect(payloads.length).toBeGreaterThanOrEqual(30);
    expect(new Set(payloads).size).toBe(payloads.length);
    const callback = 'http://localhost:4002/handoff/callback';
    const uris = redirectUriPayloads(callback);
    expect(uris.length).toBeGreaterThanOrEqual(30);
    expect(uris).not.toContain(callback);
  });

  it('re-spells a signature into another string of the same bytes, and knows which spellings verify', () => {
    const data = Buffer.from('header.payload');
    const ed = generateKeyPairSync('ed25519');
    const edSignature = sign(null, data, ed.privateKey).toString('base64url');
    const spare = withSpareBits(edSignature) as string;
    expect(spare).not.toBe(edSignature);
    expect(Buffer.from(spare, 'base64url')).toEqual(Buffer.from(edSignature, 'base64url'));
    // RFC 8032 refuses S + L, so it is no second spelling of an Ed25519 signature.
    expect(verify(null, data, ed.publicKey, Buffer.from(ed25519SPlusL(edSignature), 'base64url'))).toBe(
      false,
    );

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecSignature = sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString(
      'base64url',
    );
    const highS = es256HighS(ecSignature);
    expect(highS).not.toBe(ecSignature);
    expect(
      verify(
        'sha256',
        data,
        { key: ec.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(highS, 'base64url'),
      ),
    ).toBe(true);
  });

  it('writes the published key as every HMAC secret a confused verifier might use', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'EdDSA' };
    const forms = Object.fromEntries(
      secretForms(jwk).map((form) => [form.id, form.secret.toString('latin1')]),
    );
    expect(forms.pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    expect(forms['pem-trimmed']).toBe(forms.pem?.trimEnd());
    expect(secretForms(jwk).find((form) => form.id === 'raw')?.secret).toHaveLength(32);
  });

  it('defaults to the URLs and demo user of npm start, and reports every bad option at once', () => {
    const options = parseCliOptions([], { DEMO_PASSWORD: 'from-the-env' });
    expect(options).toMatchObject({
      server1: CLI_DEFAULTS.server1,
      server2: CLI_DEFAULTS.server2,
      username: 'alice',
      password: 'from-the-env',
    });
    expect(parseCliOptions([], {}).password).toBe('handoff-demo');
    expect(() => parseCliOptions(['--server1', 'ftp://x', '--max-wait=-1', '--only', '('], {})).toThrow(
      /^(?=[\s\S]*--server1 must be an http\(s\) URL)(?=[\s\S]*--max-wait must be)(?=[\s\S]*--only is not a regular)/,
    );
  });

  it('fails the run when an attack got through, and never passes one it could not test', () => {
    expect(exitCodeOf([row('refused'), row('not-run'), row('not-observable')], undefined)).toBe(0);
    expect(exitCodeOf([row('refused'), row('succeeded'), row('error')], undefined)).toBe(1);
    expect(exitCodeOf([row('unexpected')], undefined)).toBe(1);
    expect(exitCodeOf([row('refused'), row('error')], undefined)).toBe(2);
    expect(exitCodeOf([], 'signing in to server1 as alice failed: 401')).toBe(2);
  });

  it('prints the table with each row not refused again in full', () => {
    const report = {
      server1: 'http://localhost:4001',
      server2: 'http://localhost:4002',
      user: 'alice',
      startedAt: new Date(0).toISOString(),
      durationMs: 1200,
      results: [row('refused', 'alg-none'), row('succeeded', 'hs256-public-key-pem')],
      fatal: undefined,
      responses: 3,
      exitCode: 1 as const,
    };
    const text = formatReport(report);
    expect(text).toMatch(/attack +where +expected +got +verdict/);
    expect(text).toContain('SUCCEEDED  signature/hs256-public-key-pem (server2 POST /handoff/callback)');
    expect(text).toMatch(
      /2 attacks: 1 refused, 1 SUCCEEDED · 3 responses · 1\.2 s · ATTACKS GOT THROUGH \(exit 1\)$/,
    );
  });

  it('has every attack documented in docs/attack-self-test.md, and ids unique', () => {
    const docs = readFileSync(new URL('../../docs/attack-self-test.md', import.meta.url), 'utf8');
    const ids = [...ATTACKS, ...FINAL_CHECKS].map(qualifiedId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !docs.includes(`\`${id}\``))).toEqual([]);
  });
});
