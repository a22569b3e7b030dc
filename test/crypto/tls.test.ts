// crypto/tls.ts: the self-signed certificate is an end-entity server
// certificate for localhost, 127.0.0.1 and ::1 (RFC 5280 §4.2.1.9, §4.2.1.6).
import test from 'ava';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generateTlsCertificate, readTlsMaterial, writeTlsMaterial } from '../../src/crypto/tls.ts';

test('certificate is end-entity, serverAuth, with the loopback SANs and ~2 years validity', async (t) => {
  const material = await generateTlsCertificate();
  const cert = new X509Certificate(material.cert);
  t.false(cert.ca);
  t.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']); // node reports extKeyUsage here: serverAuth
  t.is(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  t.true(cert.checkHost('localhost') !== undefined);
  t.is(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.true(cert.checkPrivateKey(createPrivateKey(material.key)));
  t.is(cert.publicKey.asymmetricKeyType, 'rsa');
  t.is(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
  t.true(days > 700 && days < 740, `valid for ${days} days`);
  t.is(material.fingerprint256, cert.fingerprint256);
  t.regex(material.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('a TLS client that trusts the certificate verifies it for localhost', async (t) => {
  const material = await generateTlsCertificate();
  const server = tls.createServer({ key: material.key, cert: material.cert }, (s) => s.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const authorized = await new Promise<boolean>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: address.port, servername: 'localhost', ca: material.cert }, () => {
      resolve(socket.authorized);
      socket.end();
    });
    socket.on('error', reject);
  });
  t.true(authorized);
});

test('key.pem is written 0600 and read back', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-tls-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const material = await generateTlsCertificate();
  const { keyFile } = await writeTlsMaterial(path.join(dir, 'tls'), material);
  t.is(fs.statSync(keyFile).mode & 0o777, 0o600);
  t.is(fs.statSync(path.join(dir, 'tls')).mode & 0o777, 0o700);
  t.deepEqual(await readTlsMaterial(path.join(dir, 'tls')), material);
});
