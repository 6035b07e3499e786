// A PostgreSQL of its own with `ssl = on` and a password, reached through the settings a process reads (PGSSLMODE,
// PGSSLROOTCERT, PGPASSWORD_FILE, DATABASE_URL without a password): the ledger's every connection is encrypted and
// verified as libpq's modes say, and a wrong secret fails without the secret in the error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { holdLeadership, openLedger, type Ledger } from '@tangerine/ledger';
import { ledgerOptions, serviceConnection } from '@tangerine/platform';
import { createLogger, type Env } from '@tangerine/runtime';
import { freePort } from '../helpers/nats.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { makeCertificates, type TestCertificates } from '../helpers/tls.js';
import { waitUntil } from '../helpers/wait.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const PASSWORD = 'ledger-pa55word-in-a-file';

let dir = '';
let certs: TestCertificates;
let server: PostgresServer;
let url = '';
const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

/** A ledger opened as a process opens it: its environment compiled by the service connection config. */
function ledgerFrom(env: Env): Ledger {
  return openLedger({ ...ledgerOptions(serviceConnection.compile(env), 'ledger-tls-test'), log, max: 1 });
}

async function sslOf(ledger: Ledger): Promise<boolean> {
  const rows = await ledger.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  return rows[0]?.ssl === true;
}

/** Everything an error would put in a log line: messages, stacks and fields of the whole chain. */
function logged(err: unknown): string {
  const parts: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) {
    // A TLS error carries the peer's certificate, which refers to itself: its own fields, as text, are enough.
    parts.push(e.message, e.stack ?? '', ...Object.entries(e).map(([k, v]) => `${k}=${typeof v === 'object' ? '[object]' : String(v)}`));
  }
  return parts.join('\n');
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-ledger-tls-'));
  // The certificate names a host that is not 127.0.0.1: verify-ca takes it, verify-full does not.
  certs = makeCertificates('DNS:db.tangerine.invalid');
  const port = await freePort();
  server = await startPostgres(port, { password: PASSWORD, ssl: { cert: certs.serverCert, key: certs.serverKey } });
  url = `postgres://postgres@127.0.0.1:${port}/postgres`;
});

after(async () => {
  await server?.stop();
  certs?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('PostgreSQL over TLS, with the password from a file', () => {
  it('PGSSLMODE=verify-ca with PGSSLROOTCERT and PGPASSWORD_FILE: the pool and the leadership connection are encrypted', async () => {
    const ledger = ledgerFrom({ DATABASE_URL: url, PGSSLMODE: 'verify-ca', PGSSLROOTCERT: certs.ca, PGPASSWORD_FILE: file('pw', `${PASSWORD}\n`) });
    try {
      assert.equal(await sslOf(ledger), true);
      const leadership = holdLeadership({ connection: ledger.options, key: 912_001, log, application: 'ledger-tls-leader' });
      try {
        await waitUntil('leadership over TLS', () => leadership.isLeader(), 10000);
        const rows = await ledger.query<{ ssl: boolean }>(
          "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ledger-tls-leader'");
        assert.deepEqual(rows.map((r) => r.ssl), [true]);
      } finally {
        await leadership.release();
      }
    } finally {
      await ledger.close();
    }
  });

  it('without PGSSLMODE the connection is plain, as before', async () => {
    const ledger = ledgerFrom({ DATABASE_URL: url, PGPASSWORD: PASSWORD });
    try {
      assert.equal(await sslOf(ledger), false);
    } finally {
      await ledger.close();
    }
  });

  it('require encrypts without checking the certificate; verify-ca refuses a server signed by another CA', async () => {
    const plain = ledgerFrom({ DATABASE_URL: url, PGSSLMODE: 'require', PGPASSWORD: PASSWORD });
    try {
      assert.equal(await sslOf(plain), true);
    } finally {
      await plain.close();
    }
    const other = ledgerFrom({ DATABASE_URL: url, PGSSLMODE: 'verify-ca', PGSSLROOTCERT: certs.otherCa, PGPASSWORD: PASSWORD });
    try {
      await assert.rejects(other.query('SELECT 1'), (err: unknown) => {
        assert.ok(!logged(err).includes(PASSWORD), logged(err));
        return true;
      });
    } finally {
      await other.close();
    }
  });

  it('verify-full also checks the host name: 127.0.0.1 is not the certificate\'s name', async () => {
    const ledger = ledgerFrom({ DATABASE_URL: url, PGSSLMODE: 'verify-full', PGSSLROOTCERT: certs.ca, PGPASSWORD: PASSWORD });
    try {
      await assert.rejects(ledger.query('SELECT 1'), (err: unknown) => {
        assert.match(logged(err), /ERR_TLS_CERT_ALTNAME_INVALID/);
        return true;
      });
    } finally {
      await ledger.close();
    }
  });

  it('a wrong password from PGPASSWORD_FILE fails, and the error holds no password, nor does one given in the URL', async () => {
    const wrong = 'not-the-ledger-password-9';
    for (const env of [
      { DATABASE_URL: url, PGSSLMODE: 'require', PGPASSWORD_FILE: file('wrong', wrong) },
      { DATABASE_URL_FILE: file('url', url.replace('postgres@', `postgres:${wrong}@`)), PGSSLMODE: 'require' },
    ]) {
      const ledger = ledgerFrom(env);
      try {
        await assert.rejects(ledger.query('SELECT 1'), (err: unknown) => {
          assert.equal((err as { code?: unknown }).code, '28P01', 'password authentication failed');
          assert.ok(!logged(err).includes(wrong), logged(err));
          return true;
        });
      } finally {
        await ledger.close();
      }
    }
  });
});
