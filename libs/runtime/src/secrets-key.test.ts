import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isTangerineError } from '@tangerine/contracts';
import { parseSecretsKey, secretsKeySetting } from './secrets-key.js';

const HEX = 'ab'.repeat(32);
const BASE64 = Buffer.from(HEX, 'hex').toString('base64');

function refused(env: Record<string, string>, message: RegExp): void {
  assert.throws(() => secretsKeySetting.read(env), (err: unknown) => {
    assert.ok(isTangerineError(err));
    assert.equal(err.code, 'config_invalid');
    assert.match(err.message, message);
    for (const v of Object.values(env)) if (v.length > 20 && !v.startsWith('/')) assert.ok(!err.message.includes(v), 'the value given is not quoted');
    return true;
  });
}

describe('SECRETS_KEY and SECRETS_KEY_FILE', () => {
  it('read 32 bytes as hex or base64, the same key either way, with an id that is not the key', () => {
    const a = parseSecretsKey(HEX);
    const b = parseSecretsKey(` ${BASE64}\n`);
    assert.deepEqual([a.key.length, a.id], [32, b.id]);
    assert.match(a.id, /^[0-9a-f]{8}$/);
    assert.ok(!HEX.includes(a.id));
  });

  it('are null when neither is set: the values stay plain JSON', () => {
    assert.equal(secretsKeySetting.read({}), null);
    assert.equal(secretsKeySetting.read({ SECRETS_KEY: '' }), null);
  });

  it('read the key from the file SECRETS_KEY_FILE names, as a swarm secret is mounted', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secrets-key-'));
    const file = path.join(dir, 'key');
    writeFileSync(file, `${HEX}\n`);
    assert.equal(secretsKeySetting.read({ SECRETS_KEY_FILE: file })?.id, parseSecretsKey(HEX).id);
    writeFileSync(file, 'not-a-key-but-some-secret-text');
    refused({ SECRETS_KEY_FILE: file }, /^SECRETS_KEY_FILE: must be 32 bytes/);
    refused({ SECRETS_KEY_FILE: path.join(dir, 'missing') }, /^SECRETS_KEY_FILE: cannot read ".*missing" \(ENOENT\)/);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['31 bytes', { SECRETS_KEY: 'ab'.repeat(31) }, /^SECRETS_KEY: must be 32 bytes, written as 64 hex digits or 44 characters of base64/],
    ['a passphrase', { SECRETS_KEY: 'correct horse battery staple, really' }, /the value given is not shown/],
    ['both variables', { SECRETS_KEY: HEX, SECRETS_KEY_FILE: '/run/secrets/key' }, /^SECRETS_KEY, SECRETS_KEY_FILE: give the secret once: SECRETS_KEY or SECRETS_KEY_FILE, not both/],
  ];
  for (const [label, env, message] of bad) it(`refuse ${label}, naming the variable and not quoting the value`, () => refused(env, message));
});
