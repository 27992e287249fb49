import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig as loadServer1Config } from '@jwt-handoff/server1';
import { loadConfig as loadServer2Config } from '@jwt-handoff/server2';
import { type ConfigError, EnvReader, readListenTls, readTrustedCa } from '@jwt-handoff/shared';
import { createTestCa, type TestCa, type TestCertificate } from '@jwt-handoff/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HTTPS_URL = 'https://id.example';

let ca: TestCa;
let other: TestCa;
let server: TestCertificate;
let otherServer: TestCertificate;
let notPem: string;

beforeAll(() => {
  ca = createTestCa('tls-files');
  other = createTestCa('tls-files-other');
  server = ca.issue('server', ['id.example', '127.0.0.1']);
  otherServer = other.issue('server', ['id.example']);
  notPem = join(ca.dir, 'not-pem.txt');
  writeFileSync(notPem, 'just some text\n');
});

afterAll(() => {
  ca?.remove();
  other?.remove();
});

/** What readListenTls and readTrustedCa make of `env`, and every problem reported. */
function read(env: Record<string, string>, publicUrl = HTTPS_URL) {
  const reader = new EnvReader(env);
  const tls = readListenTls(reader, publicUrl);
  const trustedCa = readTrustedCa(reader);
  try {
    reader.finish();
    return { tls, trustedCa, problems: [] as readonly string[] };
  } catch (err) {
    return { tls, trustedCa, problems: (err as ConfigError).problems };
  }
}

describe('TLS_CERT_FILE and TLS_KEY_FILE', () => {
  it('are off when neither is set', () => {
    expect(read({})).toEqual({ tls: undefined, trustedCa: undefined, problems: [] });
  });

  it('reads the certificate and its key, ready for the listener', () => {
    const { tls, problems } = read({ TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile });

    expect(problems).toEqual([]);
    expect(tls?.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(tls?.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it.each([
    ['TLS_CERT_FILE', { TLS_KEY_FILE: 'key.pem' }],
    ['TLS_KEY_FILE', { TLS_CERT_FILE: 'cert.pem' }],
  ])('require each other: without %s, it is named', (missing, env) => {
    expect(read(env)).toEqual({
      tls: undefined,
      trustedCa: undefined,
      problems: [expect.stringMatching(new RegExp(`^${missing} must be set when`))],
    });
  });

  it('refuse a file that cannot be read, naming the variable and the file', () => {
    const { tls, problems } = read({ TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: server.keyFile });

    expect(tls).toBeUndefined();
    expect(problems).toEqual(['TLS_CERT_FILE cannot be read: ENOENT for /nonexistent/cert.pem']);
  });

  it('refuse a certificate file without a certificate, and a key file without a key', () => {
    const { tls, problems } = read({ TLS_CERT_FILE: notPem, TLS_KEY_FILE: server.certFile });

    expect(tls).toBeUndefined();
    expect(problems).toEqual([
      expect.stringMatching(/^TLS_CERT_FILE must name a file of PEM certificates .*has none$/),
      expect.stringMatching(/^TLS_KEY_FILE must name a file holding an unencrypted PEM private key/),
    ]);
  });

  it('refuse a certificate block that does not parse', () => {
    const broken = join(ca.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');

    const { problems } = read({ TLS_CERT_FILE: broken, TLS_KEY_FILE: server.keyFile });

    expect(problems).toEqual([
      expect.stringMatching(/^TLS_CERT_FILE holds a certificate that does not parse/),
    ]);
  });

  it("refuse a key that is not the certificate's", () => {
    const { tls, problems } = read({ TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: otherServer.keyFile });

    expect(tls).toBeUndefined();
    expect(problems).toEqual([
      expect.stringMatching(/^TLS_KEY_FILE does not go with the certificate in TLS_CERT_FILE/),
    ]);
  });

  it('refuse an http PUBLIC_URL: the listener answers only TLS', () => {
    const { problems } = read(
      { TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile },
      'http://id.example',
    );

    expect(problems).toEqual([
      'PUBLIC_URL must be an https URL when TLS_CERT_FILE is set (the service then answers only TLS), got "http://id.example"',
    ]);
  });
});

describe('TLS_CA_FILE', () => {
  it('reads every certificate of a bundle', () => {
    const bundle = join(ca.dir, 'bundle.pem');
    writeFileSync(bundle, `# two CAs\n${readText(ca.caFile)}\n${readText(other.caFile)}`);

    const { trustedCa, problems } = read({ TLS_CA_FILE: bundle });

    expect(problems).toEqual([]);
    expect(trustedCa).toHaveLength(2);
    expect(trustedCa?.[0]).toBe(readText(ca.caFile).trim());
  });

  it('refuses a missing file and a file without a certificate, naming the variable', () => {
    expect(read({ TLS_CA_FILE: '/nonexistent/ca.pem' }).problems).toEqual([
      'TLS_CA_FILE cannot be read: ENOENT for /nonexistent/ca.pem',
    ]);
    expect(read({ TLS_CA_FILE: notPem }).problems).toEqual([
      expect.stringMatching(/^TLS_CA_FILE must name a file of PEM certificates/),
    ]);
  });
});

describe('the services read them', () => {
  it('server1 listens over TLS and trusts the CA for its calls', () => {
    const config = loadServer1Config({
      PUBLIC_URL: HTTPS_URL,
      TLS_CERT_FILE: server.certFile,
      TLS_KEY_FILE: server.keyFile,
      TLS_CA_FILE: other.caFile,
    });

    expect(config.tls?.cert).toContain('BEGIN CERTIFICATE');
    expect(config.tlsCa).toEqual([readText(other.caFile).trim()]);
  });

  it('server2 refuses TLS with an http PUBLIC_URL, naming it', () => {
    expect(() =>
      loadServer2Config({
        PUBLIC_URL: 'http://app.example',
        TLS_CERT_FILE: server.certFile,
        TLS_KEY_FILE: server.keyFile,
      }),
    ).toThrow(/PUBLIC_URL must be an https URL when TLS_CERT_FILE is set/);
  });

  it('server2 refuses an unreadable TLS_CA_FILE', () => {
    expect(() => loadServer2Config({ TLS_CA_FILE: '/nonexistent/ca.pem' })).toThrow(
      /TLS_CA_FILE cannot be read: ENOENT/,
    );
  });
});

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
