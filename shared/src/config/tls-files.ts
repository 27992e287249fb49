import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { EnvReader } from './env-reader.js';

/** The certificate chain and private key a service listens with over TLS, as PEM text. */
export interface ListenTls {
  /** The service's certificate first, then any intermediates (TLS_CERT_FILE). */
  readonly cert: string;
  /** Its private key, unencrypted PKCS#8, PKCS#1 or SEC1 PEM (TLS_KEY_FILE). */
  readonly key: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads `TLS_CERT_FILE` and `TLS_KEY_FILE` (both or neither): the files are read and checked
 * now, at start, so that a wrong path, a key that is not the certificate's, or a file that is
 * not PEM stops the service naming the variable, instead of failing the first handshake.
 *
 * With TLS on, `PUBLIC_URL` must be https. The listener speaks only TLS, so an http public URL
 * would send every browser to an address that cannot answer it; and the public URL is what
 * turns on HSTS and Secure `__Host-` cookies (cookie-policy.ts), which a TLS service must have.
 * Refused rather than warned: there is no deployment in which that pair is right.
 */
export function readListenTls(read: EnvReader, publicUrl: string): ListenTls | undefined {
  const certFile = read.raw('TLS_CERT_FILE');
  const keyFile = read.raw('TLS_KEY_FILE');
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const [missing, given] =
      certFile === undefined ? ['TLS_CERT_FILE', 'TLS_KEY_FILE'] : ['TLS_KEY_FILE', 'TLS_CERT_FILE'];
    read.problem(
      missing,
      `must be set when ${given} is: a TLS listener needs both the certificate and its key`,
    );
    return undefined;
  }
  if (!read.hasProblem('PUBLIC_URL') && new URL(publicUrl).protocol !== 'https:') {
    read.problem(
      'PUBLIC_URL',
      `must be an https URL when TLS_CERT_FILE is set (the service then answers only TLS), got "${publicUrl}"`,
    );
  }
  const certificates = readCertificates(read, 'TLS_CERT_FILE', certFile);
  const key = readPrivateKey(read, 'TLS_KEY_FILE', keyFile);
  if (certificates === undefined || key === undefined) return undefined;
  const cert = certificates.join('\n');
  try {
    // What the listener will do with them: OpenSSL checks here that the key is the certificate's.
    createSecureContext({ cert, key });
  } catch (err) {
    read.problem(
      'TLS_KEY_FILE',
      `does not go with the certificate in TLS_CERT_FILE (${(err as Error).message})`,
    );
    return undefined;
  }
  return Object.freeze({ cert, key });
}

/**
 * Reads `TLS_CA_FILE` (or `name`): PEM certificates (one or more) that outbound https calls
 * trust besides Node's default roots, for a private CA. Checked now, so that a wrong path or a
 * file without a certificate stops the service naming the variable; Node's own
 * NODE_EXTRA_CA_CERTS only prints a warning and starts anyway.
 */
export function readTrustedCa(read: EnvReader, name = 'TLS_CA_FILE'): readonly string[] | undefined {
  const file = read.raw(name);
  if (file === undefined) return undefined;
  const certificates = readCertificates(read, name, file);
  return certificates && Object.freeze(certificates);
}

/** The PEM certificates in `file`, each checked to parse; undefined (and a problem) otherwise. */
function readCertificates(read: EnvReader, name: string, file: string): string[] | undefined {
  const text = readText(read, name, file);
  if (text === undefined) return undefined;
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    read.problem(
      name,
      `must name a file of PEM certificates ("-----BEGIN CERTIFICATE-----"): ${file} has none`,
    );
    return undefined;
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      read.problem(
        name,
        `holds a certificate that does not parse (number ${index + 1} in ${file}): ${(err as Error).message}`,
      );
      return undefined;
    }
  }
  return blocks;
}

function readPrivateKey(read: EnvReader, name: string, file: string): string | undefined {
  const text = readText(read, name, file);
  if (text === undefined) return undefined;
  try {
    createPrivateKey(text);
  } catch (err) {
    read.problem(
      name,
      `must name a file holding an unencrypted PEM private key: ${file} does not (${(err as Error).message})`,
    );
    return undefined;
  }
  return text;
}

function readText(read: EnvReader, name: string, file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    read.problem(
      name,
      `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} for ${file}`,
    );
    return undefined;
  }
}
