import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Files made by Debian's `openssl` for one test file: a CA, a server certificate it signed, a client one. */
export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: a server's certificate does not verify with it. */
  otherCa: string;
  remove(): void;
}

/** Makes them in a temporary directory; `names` go into the server certificate's subjectAltName. */
export function makeCertificates(names = 'IP:127.0.0.1,DNS:localhost'): TestCertificates {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-tls-'));
  const f = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => { execFileSync('openssl', args, { stdio: 'ignore' }); };
  // P-256 keys: a fraction of the time of RSA on a busy machine, and both NATS and PostgreSQL take them.
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) openssl('req', '-x509', ...key, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.pem`), '-days', '2', '-subj', `/CN=tangerine test ${ca}`);
  const sign = (name: string, subject: string, ext: string): void => {
    openssl('req', ...key, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subject);
    writeFileSync(f(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`));
  };
  sign('server', '/CN=tangerine test server', `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`);
  sign('client', '/CN=tangerine test client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir, ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'),
    otherCa: f('other-ca.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
