// The one file that imports selfsigned: the self-signed TLS certificate for
// the loopback servers (RFC 5280 profile of an end-entity server certificate).
// It is NOT a CA (basicConstraints cA=false): a user who accepts it in a mail
// client trusts this one certificate, not anything it could sign. RSA 2048 +
// SHA-256 is what Thunderbird and Outlook (Schannel) accept without surprises.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../config/config.ts';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** SHA-256 fingerprint as colon-separated uppercase hex (what clients show) */
  fingerprint256: string;
}

const VALIDITY_DAYS = 2 * 365;

/** Generates a key and self-signed end-entity certificate for localhost. */
export async function generateTlsCertificate(now: Date = new Date()): Promise<TlsMaterial> {
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000); // tolerate a slightly slow client clock
  const notAfter = new Date(now.getTime() + VALIDITY_DAYS * 24 * 60 * 60 * 1000);
  // Loaded on first use: only init needs it, not a running gateway.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'Sealpost gateway' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint256: new X509Certificate(pems.cert).fingerprint256 };
}

/** Writes key.pem (0600) and cert.pem (0644) into `dir` (created 0700). */
export async function writeTlsMaterial(dir: string, material: TlsMaterial): Promise<{ keyFile: string; certFile: string }> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  await writeFileAtomic(keyFile, material.key, 0o600);
  await writeFileAtomic(certFile, material.cert, 0o644);
  return { keyFile, certFile };
}

/** Reads key.pem and cert.pem back. */
export async function readTlsMaterial(dir: string): Promise<TlsMaterial> {
  const key = await fs.readFile(path.join(dir, 'key.pem'), 'utf8');
  const cert = await fs.readFile(path.join(dir, 'cert.pem'), 'utf8');
  return { key, cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}
