import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UNREADABLE_SECRETS_SHOWN, redactPayload } from './codec.js';

const SECRET = 's3cret-value';

describe('redactPayload hides env and secret_env values', () => {
  const cases: [string, unknown, unknown][] = [
    ['a spec', { name: 'a', env: { MODE: 'prod' }, secret_env: { DB_PASSWORD: SECRET } },
      { name: 'a', env: { MODE: '***' }, secret_env: { DB_PASSWORD: '***' } }],
    ['a list of specs', [{ name: 'a', secret_env: [`DB_PASSWORD=${SECRET}`] }, { name: 'b', environment: [['K', SECRET]] }],
      [{ name: 'a', secret_env: ['DB_PASSWORD=***'] }, { name: 'b', environment: [['K', '***']] }]],
    ['a dispatch', { name: 'a', attempt: 1, host: 'h', spec: { env: {}, secret_env: { T: SECRET } } },
      { name: 'a', attempt: 1, host: 'h', spec: { env: {}, secret_env: { T: '***' } } }],
    ['a secret_env that is a string', { name: 'a', secret_env: SECRET }, { name: 'a', secret_env: '***' }],
    ['a list item without its "="', { name: 'a', secret_env: [SECRET, [SECRET]] }, { name: 'a', secret_env: ['***', ['***']] }],
    ['a secret_env nested deeper than any spec', { a: { b: { c: { d: { secret_env: { K: SECRET } } } } } },
      { a: { b: { c: { d: { secret_env: { K: '***' } } } } } }],
    ['env deeper than a dispatch\'s spec, which is no spec and kept', { a: { b: { c: { env: { K: 'v' } } } } },
      { a: { b: { c: { env: { K: 'v' } } } } }],
  ];
  for (const [label, payload, shown] of cases) {
    it(`in ${label}`, () => {
      const text = redactPayload(JSON.stringify(payload), 10_000);
      assert.deepEqual(JSON.parse(text), shown);
      assert.ok(!text.includes(SECRET));
    });
  }

  it('shows a text that is not JSON as it is, unless it names secret_env', () => {
    assert.equal(redactPayload('{"name": "a", "env": {'), '{"name": "a", "env": {');
    assert.equal(redactPayload(`{"name": "a", "secret_env": {"K": "${SECRET}"`), UNREADABLE_SECRETS_SHOWN);
  });

  it('does not show a payload nested too deep to be walked if it names secret_env', () => {
    const deep = `${'['.repeat(20)}{"secret_env":{"K":"${SECRET}"}}${']'.repeat(20)}`;
    assert.equal(redactPayload(deep), UNREADABLE_SECRETS_SHOWN);
  });

  it('shortens what it shows to the given length, ending in …', () => {
    const text = redactPayload(JSON.stringify({ name: 'a', command: ['x'.repeat(1000)] }), 100);
    assert.equal(text.length, 100);
    assert.ok(text.endsWith('…'));
  });
});
