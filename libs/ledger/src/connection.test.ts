import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionConfig, sslOptions, type PgSsl } from './db.js';

const ssl = (mode: PgSsl['mode']): PgSsl => ({ mode, rootCert: null, cert: null, key: null });

describe('sslOptions: PGSSLMODE with libpq\'s meanings', () => {
  it('unset and disable: no TLS', () => {
    assert.equal(sslOptions(ssl(null)), false);
    assert.equal(sslOptions(ssl('disable')), false);
  });
  it('require: encrypted, the certificate not checked', () => {
    const o = sslOptions(ssl('require'));
    assert.ok(o);
    assert.equal(o.rejectUnauthorized, false);
  });
  it('verify-ca: the chain checked, not the name', () => {
    const o = sslOptions(ssl('verify-ca'));
    assert.ok(o);
    assert.equal(o.rejectUnauthorized, true);
    assert.equal(o.checkServerIdentity?.('db', {} as never), undefined);
  });
  it('verify-full: the chain and the name (Node\'s own check)', () => {
    const o = sslOptions(ssl('verify-full'));
    assert.ok(o);
    assert.equal(o.rejectUnauthorized, true);
    assert.equal(o.checkServerIdentity, undefined);
  });
});

describe('connectionConfig: one resolved config', () => {
  it('a password given beside a URL without one is kept (pg alone would drop it for the URL\'s empty one)', () => {
    const c = connectionConfig({ databaseUrl: 'postgres://app@db:5433/t', password: 'from-file' });
    assert.equal(c.password, 'from-file');
    assert.equal(c.host, 'db');
    assert.equal(c.port, 5433);
    assert.equal(c.user, 'app');
    assert.equal(c.database, 't');
    assert.equal(c.ssl, undefined);
  });
  it('the URL\'s own password wins', () => {
    assert.equal(connectionConfig({ databaseUrl: 'postgres://app:inurl@db/t', password: 'from-file' }).password, 'inurl');
  });
  it('TLS of the PGSSL* settings, unless the URL gives its own', () => {
    assert.equal(connectionConfig({ databaseUrl: null, password: null, ssl: ssl('disable') }).ssl, false);
    assert.equal(typeof connectionConfig({ databaseUrl: 'postgres://db/t', password: null, ssl: ssl('require') }).ssl, 'object');
    assert.equal(typeof connectionConfig({ databaseUrl: 'postgres://db/t?sslmode=disable', password: null, ssl: ssl('require') }).ssl, 'boolean');
  });
  it('no URL and no password: pg reads PG* itself', () => {
    const c = connectionConfig({ databaseUrl: null, password: null });
    assert.equal('password' in c, false);
    assert.equal('host' in c, false);
  });
});

describe('connectionConfig: a URL that does not parse', () => {
  it('is refused naming DATABASE_URL, without the URL (its password) anywhere in the error', () => {
    assert.throws(() => connectionConfig({ databaseUrl: 'postgres://app:hunter2@db:notaport/t', password: null }), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /^DATABASE_URL: must be a connection string/);
      assert.ok(!JSON.stringify({ ...err, message: err.message, stack: err.stack }).includes('hunter2'));
      return true;
    });
  });
});
