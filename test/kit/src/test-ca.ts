import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './service-process.js';

/** A server certificate made by a {@link TestCa}, as files. */
export interface TestCertificate {
  /** The certificate (PEM), for TLS_CERT_FILE or nginx's ssl_certificate. */
  readonly certFile: string;
  /** Its unencrypted private key (PEM), for TLS_KEY_FILE or ssl_certificate_key. */
  readonly keyFile: string;
}

/** A private certificate authority made for one test run, in a temporary folder. */
export interface TestCa {
  /** The folder holding every file it made. */
  readonly dir: string;
  /** The CA's own certificate (PEM): what TLS_CA_FILE names to trust it. */
  readonly caFile: string;
  /** Issues a server certificate for `names` (DNS names, or IP addresses), valid for two days. */
  issue(fileName: string, names: readonly string[]): TestCertificate;
  /** Deletes the folder. */
  remove(): void;
}

/**
 * Makes a private CA with the `openssl` binary (P-256 keys), as an operator with a private CA
 * would: the tests then use real certificates, chains and host-name checks, nothing mocked.
 * Throws, saying so, when openssl is not installed.
 */
export function createTestCa(name: string): TestCa {
  const dir = tempDir(`ca-${name}`);
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ['-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=${name} test CA`],
    ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  return {
    dir,
    caFile,
    issue(fileName, names) {
      const certFile = join(dir, `${fileName}.pem`);
      const keyFile = join(dir, `${fileName}.key`);
      const csr = join(dir, `${fileName}.csr`);
      const extensions = join(dir, `${fileName}.ext`);
      const altNames = names.map((entry) => (/^[\d.]+$|:/.test(entry) ? `IP:${entry}` : `DNS:${entry}`));
      writeFileSync(
        extensions,
        `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${altNames.join(',')}\n`,
      );
      openssl(
        ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ['-keyout', keyFile, '-out', csr, '-subj', `/CN=${names[0]}`],
      );
      openssl(
        ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial'],
        ['-out', certFile, '-days', '2', '-extfile', extensions],
      );
      return { certFile, keyFile };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function openssl(...argumentGroups: string[][]): void {
  try {
    execFileSync('openssl', argumentGroups.flat(), { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const error = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (error.code === 'ENOENT')
      throw new Error('openssl is not installed: the TLS tests need the openssl binary');
    throw new Error(
      `openssl ${argumentGroups.flat().join(' ')} failed: ${error.stderr?.toString() ?? error.message}`,
    );
  }
}
