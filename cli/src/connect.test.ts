import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { clientOptions, effectiveEnv } from './connect.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-cli-connect-'));
const seedFile = path.join(dir, 'submitter.nk');
writeFileSync(seedFile, `SUAM${'A'.repeat(54)}\n`);

describe('effectiveEnv', () => {
  it('reads NATS_NKEY holding a path as NATS_NKEY_FILE, as the nats CLI does', () => {
    assert.deepEqual(effectiveEnv({ NATS_NKEY: seedFile }, {}), { NATS_NKEY_FILE: seedFile });
  });
  it('keeps NATS_NKEY holding a seed', () => {
    const seed = `SUAM${'A'.repeat(54)}`;
    assert.deepEqual(effectiveEnv({ NATS_NKEY: seed }, {}), { NATS_NKEY: seed });
  });
  it('lets --server and --nkey replace the environment\'s URL and every credential', () => {
    const env = effectiveEnv({ NATS_URL: 'nats://a:1', NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TOKEN_FILE: '/x' }, { server: 'nats://b:2', nkey: seedFile });
    assert.deepEqual(env, { NATS_URL: 'nats://b:2', NATS_NKEY_FILE: seedFile });
  });
});

describe('clientOptions', () => {
  it('defaults to the local server and the default inbox', () => {
    const o = clientOptions({}, {});
    assert.deepEqual(o.servers, ['nats://127.0.0.1:4222']);
    assert.equal(o.inboxPrefix, '_INBOX');
    assert.equal(o.authenticator, undefined);
  });
  it('splits a list of servers and takes an inbox prefix', () => {
    const o = clientOptions({ NATS_URL: 'nats://a:1, nats://b:2', NATS_INBOX_PREFIX: '_INBOX.me' }, {});
    assert.deepEqual(o.servers, ['nats://a:1', 'nats://b:2']);
    assert.equal(o.inboxPrefix, '_INBOX.me');
  });
  it('refuses two ways to authenticate, naming both variables', () => {
    assert.throws(() => clientOptions({ NATS_TOKEN: 't', NATS_USER: 'u', NATS_PASSWORD: 'p' }, {}), /NATS_USER, NATS_TOKEN: .*two ways to authenticate/);
  });
  it('refuses a URL of another scheme, naming NATS_URL', () => {
    assert.throws(() => clientOptions({}, { server: 'http://x:1' }), /NATS_URL: must be a URL with a scheme/);
  });
});
