import { type KeyObject, sign } from 'node:crypto';

// Just enough DER to write one X.509 certificate: a verifier that trusts `x5c` or `x5u` would
// take the attacker's key out of it, so it must be a real, parseable certificate.
const der = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
};
const sequence = (...content: Buffer[]) => der(0x30, ...content);
const oid = (bytes: number[]) => der(0x06, Buffer.from(bytes));
const utcTime = (date: Date) =>
  der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`, 'ascii'));
const ED25519 = sequence(oid([0x2b, 0x65, 0x70]));
const ECDSA_SHA256 = sequence(oid([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
const name = (commonName: string) =>
  sequence(der(0x31, sequence(oid([0x55, 0x04, 0x03]), der(0x0c, Buffer.from(commonName)))));

/**
 * A self-signed certificate for the attacker's key (Ed25519 or P-256), valid from an hour ago
 * for a day, as DER.
 */
export function selfSignedCertificate(
  publicKey: KeyObject,
  privateKey: KeyObject,
  commonName: string,
): Buffer {
  const ed25519 = publicKey.asymmetricKeyType === 'ed25519';
  const algorithm = ed25519 ? ED25519 : ECDSA_SHA256;
  const now = Date.now();
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from([1, ...Buffer.from(String(now).slice(-6))])),
    algorithm,
    name(commonName),
    sequence(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign(ed25519 ? null : 'sha256', tbs, privateKey);
  return sequence(tbs, algorithm, der(0x03, Buffer.from([0]), signature));
}

/** The certificate as PEM, as an `x5u` URL serves it. */
export function certificatePem(certificate: Buffer): string {
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
