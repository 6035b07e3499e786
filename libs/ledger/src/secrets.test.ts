import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRowError } from '@tangerine/contracts';
import { parseSecretsKey } from '@tangerine/runtime';
import { openSecrets, sealSecrets } from './secrets.js';

const key = parseSecretsKey('11'.repeat(32));
const other = parseSecretsKey('22'.repeat(32));
const env = { DB_PASSWORD: 's3cret-value', TOKEN: 'ü=1' };

function refused(stored: unknown, k: typeof key | null, rule: RegExp): void {
  assert.throws(() => openSecrets(stored, k), (err: unknown) => {
    assert.ok(isRowError(err));
    assert.equal(err.field, 'task_secrets.env');
    assert.match(err.message, rule);
    assert.ok(!err.message.includes('s3cret'));
    return true;
  });
}

describe('secret values sealed in the ledger', () => {
  it('are kept as the JSON object itself without a key', () => {
    assert.deepEqual(sealSecrets(env, null), env);
    assert.deepEqual(openSecrets(env, null), env);
    assert.deepEqual(openSecrets(env, key), env, 'values stored before the key was set still open');
    assert.equal(openSecrets(null, key), null);
  });

  it('are sealed with the key into a string that names the key and holds no value, a new one each time', () => {
    const sealed = sealSecrets(env, key);
    assert.equal(typeof sealed, 'string');
    assert.match(sealed as string, new RegExp(`^aes-256-gcm:${key.id}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$`));
    assert.ok(!(sealed as string).includes('s3cret') && !(sealed as string).includes('DB_PASSWORD'));
    assert.notEqual(sealSecrets(env, key), sealed, 'a random iv each time');
    assert.deepEqual(openSecrets(sealed, key), env);
  });

  it('do not open without their key, with another, or changed, and say so naming the key ids', () => {
    const sealed = sealSecrets(env, key) as string;
    refused(sealed, null, new RegExp(`sealed with the key ${key.id}, and SECRETS_KEY is not set here`));
    refused(sealed, other, new RegExp(`sealed with the key ${key.id}, and SECRETS_KEY here is the key ${other.id}`));
    const parts = sealed.split(':');
    const flipped = Buffer.from(parts[4]!, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    refused([...parts.slice(0, 4), flipped.toString('base64')].join(':'), key, /does not open with the key .*: it was changed or damaged/);
    refused('plain text', key, /neither a JSON object nor a value sealed/);
    refused([1, 2], key, /neither a JSON object nor a value sealed/);
  });
});
