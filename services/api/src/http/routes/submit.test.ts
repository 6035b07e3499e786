import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecsRefused, documentsOf, messagesOf } from './submit.js';
import { YamlText } from '../yaml-body.js';

describe('messagesOf: a body\'s specs in as few bus messages as fit', () => {
  const spec = (i: number, pad = 0): Record<string, unknown> => ({ name: `t${i}`, command: ['x'.repeat(pad)] });

  it('one spec is sent alone, not as a list', () => {
    assert.deepEqual(messagesOf([spec(1)], 1000), [spec(1)]);
  });

  it('specs are lists of at most 1,000', () => {
    const out = messagesOf(Array.from({ length: 2500 }, (_, i) => spec(i)), 10 * 1024 * 1024) as unknown[][];
    assert.deepEqual(out.map((m) => m.length), [1000, 1000, 500]);
    assert.deepEqual(out.flat().map((s) => (s as { name: string }).name), Array.from({ length: 2500 }, (_, i) => `t${i}`));
  });

  it('a list is cut where the next spec would pass the bytes a message may take; a last one alone is a spec', () => {
    const specs = [spec(1, 400), spec(2, 400), spec(3, 400)];
    const out = messagesOf(specs, 900);
    assert.deepEqual(out, [[spec(1, 400), spec(2, 400)], spec(3, 400)]);
    for (const m of out) assert.ok(JSON.stringify(m).length <= 900);
  });
});

describe('documentsOf and SpecsRefused', () => {
  it('a YAML body is read as documents, a JSON one as a spec or a list', () => {
    assert.deepEqual(documentsOf(new YamlText('name: a\n')).tasks.map((t) => t.at), ['']);
    assert.deepEqual(documentsOf([{ name: 'a' }, { name: 'b' }]).tasks.map((t) => t.at), ['[0]', '[1]']);
    assert.throws(() => documentsOf(undefined), /body: a task spec \(or a list of them\) is required/);
  });

  it('names the first bad spec as the field, and every bad one in the message by its place', () => {
    const e = new SpecsRefused([
      { at: '[1]', code: 'invalid_spec', field: 'image', message: 'image: is required' },
      { at: '[3]', code: 'invalid_spec', field: 'spec', message: 'spec: must be a JSON object (got 3)' },
    ]);
    assert.equal(e.field, '[1].image');
    assert.equal(e.message, '[1].image: is required; [3].spec: must be a JSON object (got 3)');
    const one = new SpecsRefused([{ at: '', code: 'invalid_spec', field: 'name', message: 'name: is required' }]);
    assert.deepEqual([one.field, one.message], ['name', 'name: is required']);
  });
});
