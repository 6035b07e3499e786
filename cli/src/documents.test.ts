import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidationError } from '@tangerine/contracts';
import { FileLimits, parseDocuments } from './documents.js';

describe('parseDocuments', () => {
  it('reads one JSON spec', () => {
    assert.deepEqual(parseDocuments('{"name": "a", "command": ["true"]}', 'a.json'), [{ kind: 'task', spec: { name: 'a', command: ['true'] }, where: 'a.json' }]);
  });

  it('reads a JSON list as many specs, each named by its index', () => {
    const docs = parseDocuments('[{"name": "a"}, {"name": "b"}]', 'l.json');
    assert.deepEqual(docs.map((d) => [d.kind, d.where]), [['task', 'l.json [0]'], ['task', 'l.json [1]']]);
  });

  it('reads many YAML documents, in order, with templates and kind: task removed', () => {
    const text = [
      'kind: template', 'name: base', 'description: the common part', 'spec:', '  executor: process', '  env: {A: "1"}',
      '---', 'kind: task', 'name: one', 'command: [true]',
      '---', '# an empty document is passed over',
      '---', '- name: two', '- name: three',
    ].join('\n');
    const docs = parseDocuments(text, 'f.yaml');
    assert.deepEqual(docs, [
      { kind: 'template', where: 'f.yaml, document 1', template: { name: 'base', description: 'the common part', spec: { executor: 'process', env: { A: '1' } } } },
      { kind: 'task', where: 'f.yaml, document 2', spec: { name: 'one', command: [true] } },
      { kind: 'task', where: 'f.yaml, document 4 [0]', spec: { name: 'two' } },
      { kind: 'task', where: 'f.yaml, document 4 [1]', spec: { name: 'three' } },
    ]);
  });

  it('keeps YAML 1.2 scalars as the JSON they stand for (no dates, no yes/no booleans)', () => {
    const [doc] = parseDocuments('name: a\nschedule_at: 2030-01-01T00:00:00Z\nrestartable: yes\n', 'f.yaml');
    assert.deepEqual(doc?.kind === 'task' ? doc.spec : null, { name: 'a', schedule_at: '2030-01-01T00:00:00Z', restartable: 'yes' });
  });

  it('reads nothing from an empty file', () => assert.deepEqual(parseDocuments('', 'e.yaml'), []));

  const refused: [string, string, string, RegExp][] = [
    ['bad YAML', 'name: [a', 'document', /^f\.yaml: document: is not valid YAML or JSON/],
    ['a duplicate key', 'name: a\nname: b\n', 'document', /not valid YAML/],
    ['a scalar document', 'just text', 'document', /f\.yaml: document: must be a task spec or a template/],
    ['a list item that is no mapping', '- name: a\n- 3\n', 'document', /f\.yaml \[1\]: document: must be/],
    ['an unknown kind', 'kind: job\nname: a\n', 'kind', /kind: must be "task" or "template" \(got "job"\)/],
    ['a template without spec', 'kind: template\nname: t\n', 'spec', /spec: must be a mapping/],
    ['a template with a bad name', 'kind: template\nname: "a b"\nspec: {}\n', 'name', /name: a template's name must match/],
    ['a template with another field', 'kind: template\nname: t\nspec: {}\nimage: x\n', 'image', /image: is not a field of a template/],
    ['the second document, named', 'name: a\n---\nkind: x\n', 'kind', /^f\.yaml, document 2: kind:/],
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`, 'document', /alias/i],
    ['too deep', `${'['.repeat(20)}${']'.repeat(20)}`, 'document', /nest at most 16/],
  ];
  for (const [what, text, field, message] of refused) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parseDocuments(text, 'f.yaml'), (err: unknown) => {
        assert.ok(isValidationError(err), String(err));
        assert.equal(err.field, field);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('refuses a file over its size', () => {
    assert.throws(() => parseDocuments(' '.repeat(FileLimits.bytes + 1), 'big.yaml'), /big\.yaml: file: must be at most/);
  });
});
