import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TangerineError } from '@tangerine/contracts';
import { Conflicts, Settings } from './config.js';
import { MAX_SECRET_FILE_BYTES, Parse, defineConfig, setting, type Env } from './settings.js';

/** A real directory of secret files, made for this file and removed after it. */
let dir = '';
const file = (name: string): string => path.join(dir, name);
const SEED = 'SUAKYRHVIOREXV7EUZTBHUHL7NUMHPMAS7QMDU3GTIUWEI5LDNOXD43IZY';
const SECRET = 's3cr3t-Value';

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-secrets-'));
  writeFileSync(file('password'), `${SECRET}\n`);
  writeFileSync(file('crlf'), `${SECRET}\r\n\r\n`);
  writeFileSync(file('inner-newline'), 'a\nb\n');
  writeFileSync(file('spaces'), '  padded  \n');
  writeFileSync(file('empty'), '\n');
  writeFileSync(file('huge'), 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
  writeFileSync(file('seed'), `${SEED}\n`);
  writeFileSync(file('decorated-seed'), `-----BEGIN USER NKEY SEED-----\n${SEED}\n------END USER NKEY SEED------\n`);
  writeFileSync(file('not-a-seed'), `${SECRET}\n`);
  writeFileSync(file('user.creds'), [
    '-----BEGIN NATS USER JWT-----', 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig', '------END NATS USER JWT------', '',
    '-----BEGIN USER NKEY SEED-----', SEED, '------END USER NKEY SEED------', '',
  ].join('\n'));
  writeFileSync(file('ca.pem'), '-----BEGIN CERTIFICATE-----\n');
  writeFileSync(file('url'), 'postgres://app:pw@db:5432/tangerine\n');
  mkdirSync(file('a-directory'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function refused(run: () => unknown, field: string, message: string | RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof TangerineError, `expected a TangerineError, got ${String(err)}`);
    assert.equal(err.code, 'config_invalid');
    assert.equal(err.field, field);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('a secret setting X may be given as X_FILE', () => {
  const pw = setting<string | null>('PW', Parse.text(), { fallback: null, secret: true });
  const cases: [string, () => Env, string | null][] = [
    ['unset → the fallback', () => ({}), null],
    ['X → its value', () => ({ PW: SECRET }), SECRET],
    ['X_FILE → the file, its trailing newline dropped', () => ({ PW_FILE: file('password') }), SECRET],
    ['X_FILE → every trailing CR and LF dropped', () => ({ PW_FILE: file('crlf') }), SECRET],
    ['X_FILE → a line break inside is kept', () => ({ PW_FILE: file('inner-newline') }), 'a\nb'],
    ['X_FILE → spaces are the secret\'s own', () => ({ PW_FILE: file('spaces') }), '  padded  '],
    ['an empty X_FILE counts as unset', () => ({ PW_FILE: '', PW: SECRET }), SECRET],
    ['an empty X counts as unset beside X_FILE', () => ({ PW_FILE: file('password'), PW: '' }), SECRET],
  ];
  for (const [name, env, expected] of cases) it(name, () => assert.equal(pw.read(env()), expected));

  const errors: [string, () => Env, string, string | RegExp][] = [
    ['both set is a conflict naming both', () => ({ PW: 'x', PW_FILE: file('password') }), 'PW', 'PW, PW_FILE: give the secret once: PW or PW_FILE, not both'],
    ['a missing file', () => ({ PW_FILE: file('missing') }), 'PW_FILE', `PW_FILE: cannot read "${file('missing')}" (ENOENT)`],
    ['a directory', () => ({ PW_FILE: file('a-directory') }), 'PW_FILE', `PW_FILE: "${file('a-directory')}" is not a file`],
    ['an empty file', () => ({ PW_FILE: file('empty') }), 'PW_FILE', `PW_FILE: "${file('empty')}" is empty`],
    ['a file too large to be a secret', () => ({ PW_FILE: file('huge') }), 'PW_FILE', /^PW_FILE: ".+huge" is larger than 65536 bytes: not a secret$/],
  ];
  for (const [name, env, field, message] of errors) it(name, () => refused(() => pw.read(env()), field, message));

  it('declares both variables, and only a secret has a _FILE form', () => {
    assert.deepEqual(pw.variables, ['PW', 'PW_FILE']);
    assert.deepEqual(setting('PLAIN', Parse.text(), { fallback: '' }).variables, ['PLAIN']);
    assert.equal(setting('PLAIN', Parse.text(), { fallback: '' }).read({ PLAIN_FILE: file('password') }), '');
    assert.deepEqual(defineConfig({ pw }).variables, ['PW', 'PW_FILE']);
  });

  it('a refused secret is never quoted, from the variable or the file', () => {
    const port = setting<number | null>('SECRET_PORT', Parse.integer(1, 9), { fallback: null, secret: true });
    for (const env of [{ SECRET_PORT: SECRET }, { SECRET_PORT_FILE: file('password') }]) {
      assert.throws(() => port.read(env), (err: unknown) => {
        assert.ok(err instanceof TangerineError);
        assert.ok(!err.message.includes(SECRET), err.message);
        assert.match(err.message, /^SECRET_PORT(_FILE)?: must be an integer from 1 to 9$/);
        return true;
      });
    }
  });

  it('DATABASE_URL is a secret: DATABASE_URL_FILE gives it, and a refused URL hides its password', () => {
    assert.equal(Settings.databaseUrl.read({ DATABASE_URL_FILE: file('url') }), 'postgres://app:pw@db:5432/tangerine');
    refused(() => Settings.databaseUrl.read({ DATABASE_URL: 'mysql://app:hunter2@db/x' }), 'DATABASE_URL', 'DATABASE_URL: must be a URL with a scheme of postgres:, postgresql:, socket:');
  });

  it('every password, token and seed setting is a secret', () => {
    for (const s of [Settings.natsNkey, Settings.natsPassword, Settings.natsToken, Settings.databaseUrl, Settings.pgPassword, Settings.pgPass]) {
      assert.equal(s.secret, true, s.variable);
      assert.deepEqual(s.variables, [s.variable, `${s.variable}_FILE`]);
    }
    for (const s of [Settings.natsUrl, Settings.natsUser, Settings.natsCreds, Settings.natsTlsKey, Settings.pgSslKey]) assert.equal(s.secret, false, s.variable);
  });
});

describe('NATS and PostgreSQL connection settings', () => {
  const nats = defineConfig({
    nkey: Settings.natsNkey, user: Settings.natsUser, password: Settings.natsPassword, token: Settings.natsToken, creds: Settings.natsCreds,
    ca: Settings.natsTlsCa, cert: Settings.natsTlsCert, key: Settings.natsTlsKey, inbox: Settings.natsInboxPrefix,
  }, Conflicts);
  const pg = defineConfig({
    url: Settings.databaseUrl, mode: Settings.pgSslMode, root: Settings.pgSslRootCert, cert: Settings.pgSslCert, key: Settings.pgSslKey,
  }, Conflicts);

  const accepted: [string, () => Env, Record<string, unknown>][] = [
    ['nothing: no credentials, no TLS, the default inbox', () => ({}), { nkey: null, user: null, token: null, creds: null, ca: null, inbox: '_INBOX' }],
    ['NATS_NKEY_FILE: a seed file', () => ({ NATS_NKEY_FILE: file('seed') }), { nkey: SEED }],
    ['NATS_NKEY_FILE: a decorated seed file', () => ({ NATS_NKEY_FILE: file('decorated-seed') }), { nkey: SEED }],
    ['NATS_USER with NATS_PASSWORD_FILE', () => ({ NATS_USER: 'app', NATS_PASSWORD_FILE: file('password') }), { user: 'app', password: SECRET }],
    ['NATS_TOKEN', () => ({ NATS_TOKEN: SECRET }), { token: SECRET }],
    ['NATS_TOKEN_FILE', () => ({ NATS_TOKEN_FILE: file('password') }), { token: SECRET }],
    ['NATS_CREDS: a creds file', () => ({ NATS_CREDS: file('user.creds') }), { creds: file('user.creds') }],
    ['NATS_TLS_CA alone', () => ({ NATS_TLS_CA: file('ca.pem') }), { ca: file('ca.pem'), cert: null, key: null }],
    ['a token and TLS', () => ({ NATS_TOKEN: SECRET, NATS_TLS_CA: file('ca.pem'), NATS_TLS_CERT: file('ca.pem'), NATS_TLS_KEY: file('ca.pem') }),
      { token: SECRET, cert: file('ca.pem'), key: file('ca.pem') }],
    ['NATS_INBOX_PREFIX', () => ({ NATS_INBOX_PREFIX: '_INBOX.agent-h1' }), { inbox: '_INBOX.agent-h1' }],
  ];
  for (const [name, env, expected] of accepted) {
    it(`accepts ${name}`, () => {
      const got = nats.compile(env()) as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(got[k], v, k);
    });
  }

  const conflicts: [() => Env, string][] = [
    [() => ({ NATS_TOKEN: 't', NATS_USER: 'u', NATS_PASSWORD: 'p' }), 'NATS_USER, NATS_TOKEN: NATS_USER and NATS_TOKEN are two ways to authenticate to NATS: give one'],
    [() => ({ NATS_TOKEN_FILE: file('password'), NATS_USER: 'u', NATS_PASSWORD: 'p' }),
      'NATS_USER, NATS_TOKEN_FILE: NATS_USER and NATS_TOKEN_FILE are two ways to authenticate to NATS: give one'],
    [() => ({ NATS_NKEY_FILE: file('seed'), NATS_TOKEN: 't' }), 'NATS_NKEY_FILE, NATS_TOKEN: NATS_NKEY_FILE and NATS_TOKEN are two ways to authenticate to NATS: give one'],
    [() => ({ NATS_NKEY_FILE: file('seed'), NATS_CREDS: file('user.creds') }),
      'NATS_NKEY_FILE, NATS_CREDS: NATS_NKEY_FILE and NATS_CREDS are two ways to authenticate to NATS: give one'],
    [() => ({ NATS_TOKEN: 't', NATS_CREDS: file('user.creds') }), 'NATS_TOKEN, NATS_CREDS: NATS_TOKEN and NATS_CREDS are two ways to authenticate to NATS: give one'],
    [() => ({ NATS_USER: 'u' }), 'NATS_USER, NATS_PASSWORD: a NATS user needs its password: NATS_USER is set without NATS_PASSWORD'],
    [() => ({ NATS_PASSWORD_FILE: file('password') }), 'NATS_USER, NATS_PASSWORD_FILE: a NATS user needs its password: NATS_PASSWORD_FILE is set without NATS_USER'],
    [() => ({ NATS_TLS_CERT: file('ca.pem') }), 'NATS_TLS_CERT, NATS_TLS_KEY: a client certificate needs its key: NATS_TLS_CERT is set without NATS_TLS_KEY'],
    [() => ({ NATS_NKEY: 'x', NATS_NKEY_FILE: file('seed') }), 'NATS_NKEY, NATS_NKEY_FILE: give the secret once: NATS_NKEY or NATS_NKEY_FILE, not both'],
  ];
  for (const [env, message] of conflicts) {
    it(`refuses ${message.slice(0, message.indexOf(':'))}`, () => refused(() => nats.compile(env()), message.slice(0, message.indexOf(',')).replace(/_FILE$/, ''), message));
  }

  it('lists every conflict at once', () => {
    assert.throws(() => nats.compile({ NATS_TOKEN: 't', NATS_USER: 'u' }), (err: unknown) =>
      err instanceof TangerineError && err.message.split('\n').length === 2 && err.message.includes('two ways') && err.message.includes('needs its password'));
  });

  const refusedValues: [() => Env, string, string | RegExp][] = [
    [() => ({ NATS_NKEY_FILE: file('not-a-seed') }), 'NATS_NKEY', 'NATS_NKEY_FILE: must hold an nkey user seed: a line of 58 characters starting with SU, as `nk -gen user` writes'],
    [() => ({ NATS_NKEY: 'SUshort' }), 'NATS_NKEY', 'NATS_NKEY: must hold an nkey user seed: a line of 58 characters starting with SU, as `nk -gen user` writes'],
    [() => ({ NATS_NKEY_FILE: file('missing') }), 'NATS_NKEY_FILE', /^NATS_NKEY_FILE: cannot read ".+missing" \(ENOENT\)$/],
    [() => ({ NATS_CREDS: file('seed') }), 'NATS_CREDS', /^NATS_CREDS: must be a NATS \.creds file, with a user JWT and an nkey seed \(".+seed" is not\)$/],
    [() => ({ NATS_TLS_CA: file('missing') }), 'NATS_TLS_CA', /^NATS_TLS_CA: must be a readable file \(cannot read ".+missing": ENOENT\)$/],
    [() => ({ NATS_TLS_CA: file('a-directory') }), 'NATS_TLS_CA', /^NATS_TLS_CA: must be a readable file \(".+a-directory" is not a file\)$/],
    [() => ({ NATS_INBOX_PREFIX: '_INBOX.*' }), 'NATS_INBOX_PREFIX',
      'NATS_INBOX_PREFIX: must be subject tokens of A-Z, a-z, 0-9, _ and - separated by dots, at most 64 characters (got "_INBOX.*")'],
    [() => ({ NATS_INBOX_PREFIX: 'a..b' }), 'NATS_INBOX_PREFIX', /^NATS_INBOX_PREFIX: must be subject tokens/],
  ];
  for (const [env, field, message] of refusedValues) {
    it(`refuses ${JSON.stringify(Object.keys(env()))}: ${String(message).slice(0, 60)}`, () => refused(() => nats.compile(env()), field, message));
  }

  it('a seed that is refused is never quoted', () => {
    assert.throws(() => nats.compile({ NATS_NKEY_FILE: file('not-a-seed') }), (err: unknown) => err instanceof Error && !err.message.includes(SECRET));
  });

  const pgAccepted: [() => Env, Record<string, unknown>][] = [
    [() => ({}), { mode: null, root: null }],
    [() => ({ PGSSLMODE: 'disable' }), { mode: 'disable' }],
    [() => ({ PGSSLMODE: 'require' }), { mode: 'require' }],
    [() => ({ PGSSLMODE: 'verify-ca', PGSSLROOTCERT: file('ca.pem') }), { mode: 'verify-ca', root: file('ca.pem') }],
    [() => ({ PGSSLMODE: 'verify-full', PGSSLCERT: file('ca.pem'), PGSSLKEY: file('ca.pem') }), { mode: 'verify-full', cert: file('ca.pem') }],
    [() => ({ DATABASE_URL: 'postgres://db/x?sslmode=verify-full' }), { mode: null }],
    [() => ({ DATABASE_URL: 'postgres://db/x?application_name=a', PGSSLMODE: 'require' }), { mode: 'require' }],
  ];
  for (const [env, expected] of pgAccepted) {
    it(`accepts ${JSON.stringify(env()).replaceAll(dir, '…')}`, () => {
      const got = pg.compile(env()) as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(got[k], v, k);
    });
  }

  const pgRefused: [() => Env, string, string][] = [
    [() => ({ PGSSLMODE: 'prefer' }), 'PGSSLMODE',
      'PGSSLMODE: must be one of disable, require, verify-ca, verify-full (got "prefer": a fallback to a plain connection is not offered; unset it for no TLS)'],
    [() => ({ PGSSLMODE: 'no-verify' }), 'PGSSLMODE', 'PGSSLMODE: must be one of disable, require, verify-ca, verify-full (got "no-verify")'],
    [() => ({ PGSSLROOTCERT: file('ca.pem') }), 'PGSSLMODE',
      'PGSSLMODE, PGSSLROOTCERT: PGSSLROOTCERT is set but PGSSLMODE is unset: set PGSSLMODE to require, verify-ca or verify-full'],
    [() => ({ PGSSLMODE: 'disable', PGSSLCERT: file('ca.pem'), PGSSLKEY: file('ca.pem') }), 'PGSSLMODE',
      'PGSSLMODE, PGSSLCERT: PGSSLCERT is set but PGSSLMODE is disable: set PGSSLMODE to require, verify-ca or verify-full'],
    [() => ({ PGSSLMODE: 'require', PGSSLKEY: file('ca.pem') }), 'PGSSLCERT', 'PGSSLCERT, PGSSLKEY: a client certificate needs its key: PGSSLKEY is set without PGSSLCERT'],
    [() => ({ DATABASE_URL: 'postgres://db/x?sslmode=require', PGSSLMODE: 'verify-ca' }), 'DATABASE_URL',
      'DATABASE_URL, PGSSLMODE: DATABASE_URL sets TLS in its query and PGSSLMODE is set too: give TLS in one place'],
  ];
  for (const [env, field, message] of pgRefused) it(`refuses ${message.slice(0, message.indexOf(':'))}: ${message.slice(message.indexOf(':') + 2, 70)}`, () => refused(() => pg.compile(env()), field, message));
});
