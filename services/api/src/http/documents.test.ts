import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TangerineError } from '@tangerine/contracts';
import { parseJsonDocuments, parseYamlDocuments } from './documents.js';

describe('YAML documents', () => {
  it('reads one spec', () => {
    const d = parseYamlDocuments('name: hello\nimage: busybox\ncommand: [echo, hi]\n');
    assert.deepEqual(d.tasks, [{ at: '', spec: { name: 'hello', image: 'busybox', command: ['echo', 'hi'] } }]);
    assert.deepEqual(d.templates, []);
  });

  it('reads many documents, lists inside them, templates, and drops kind: task', () => {
    const text = [
      'kind: template\nname: base\ndescription: a base\nspec:\n  image: busybox\n  env: {A: "1"}',
      'kind: task\nname: a\ntemplate: base',
      '- name: b\n  image: busybox\n- name: c\n  image: busybox',
      '', // an empty document is passed over
    ].join('\n---\n');
    const d = parseYamlDocuments(text);
    assert.deepEqual(d.templates, [{ at: '[0]', template: { name: 'base', description: 'a base', spec: { image: 'busybox', env: { A: '1' } } } }]);
    assert.deepEqual(d.tasks.map((t) => [t.at, (t.spec as { name: string }).name]), [['[1]', 'a'], ['[2][0]', 'b'], ['[2][1]', 'c']]);
    assert.equal('kind' in (d.tasks[0]!.spec as object), false);
  });

  const refused: [string, string, string, string][] = [
    ['bad YAML, with its line', 'name: a\n  image: [busybox\n', 'body', 'body: is not valid YAML: Nested mappings are not allowed in compact mappings at line 1, column 7'],
    ['an unknown kind', 'kind: job\nname: a', 'kind', 'kind: must be task or template (got "job")'],
    ['a template without a spec', 'kind: template\nname: t', 'spec', 'spec: is required'],
    ['a template with an unknown field', 'kind: template\nname: t\nspec: {}\nimage: x', 'image', 'image: unknown field of a template'],
    ['a document that is text', 'hello', 'spec', 'spec: must be an object'],
    ['a spec of a list that is a number', '- 3', '[0]', '[0]: must be an object'],
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n`, 'body', 'body: is not valid YAML: Excessive alias count'],
  ];
  for (const [what, text, field, message] of refused) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parseYamlDocuments(text), (err: unknown) => {
        assert.ok(err instanceof TangerineError, String(err));
        assert.equal(err.field, field);
        assert.ok(err.message.startsWith(message), err.message);
        return true;
      });
    });
  }
});

describe('JSON documents', () => {
  it('reads one spec and a list by index', () => {
    assert.deepEqual(parseJsonDocuments({ name: 'a' }).tasks, [{ at: '', spec: { name: 'a' } }]);
    assert.deepEqual(parseJsonDocuments([{ name: 'a' }, { name: 'b', kind: 'task' }]).tasks, [{ at: '[0]', spec: { name: 'a' } }, { at: '[1]', spec: { name: 'b' } }]);
  });

  it('refuses an empty list, and a list over the bound of one submission', () => {
    assert.throws(() => parseJsonDocuments([]), /body: holds no spec/);
    assert.throws(() => parseJsonDocuments(Array.from({ length: 1001 }, (_, i) => ({ name: `t${i}` }))), /body: may hold at most 1000 specs/);
  });
});
