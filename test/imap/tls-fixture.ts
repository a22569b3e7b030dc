// A self-signed key and certificate for tests, made once per process with the
// project's own certificate code.
import { generateTlsCertificate } from '../../src/crypto/tls.ts';

let cached: Promise<{ key: string; cert: string }> | null = null;
export function testTls(): Promise<{ key: string; cert: string }> {
  cached ??= generateTlsCertificate().then((m) => ({ key: m.key, cert: m.cert }));
  return cached;
}
