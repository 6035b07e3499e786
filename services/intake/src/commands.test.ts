import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SPECS_PER_MESSAGE, parseCommand } from './commands.js';

const enc = new TextEncoder();
const NOW = new Date('2026-11-22T12:00:00Z');
const parse = (subject: string, payload: unknown) =>
  parseCommand(subject, 42, enc.encode(typeof payload === 'string' ? payload : JSON.stringify(payload)), NOW);

describe('parseCommand', () => {
  it('reads one spec', () => {
    const [p] = parse('tasks.submit', { name: 'a', image: 'busybox' });
    assert.equal(p?.kind, 'submit');
    assert.equal(p?.key, '42');
    assert.equal(p?.kind === 'submit' && p.submission.spec.name, 'a');
  });

  it('reads a list of specs, each judged on its own, with a key per position', () => {
    const parsed = parse('tasks.submit', [{ name: 'a', image: 'busybox' }, { name: 'bad name', image: 'busybox' }, { name: 'c', executor: 'process', command: 'true' }]);
    assert.deepEqual(parsed.map((p) => [p.kind, p.key, p.seq]), [['submit', '42:0', 42], ['invalid', '42:1', 42], ['submit', '42:2', 42]]);
    const bad = parsed[1]!;
    assert.ok(bad.kind === 'invalid');
    assert.equal(bad.rejection.name, 'bad name');
    assert.equal(bad.rejection.field, 'name');
    assert.equal(bad.rejection.payload, '{"name":"bad name","image":"busybox"}', 'the payload is the spec at fault, not the whole list');
  });

  it('refuses a list longer than the limit, whole', () => {
    const list = Array.from({ length: MAX_SPECS_PER_MESSAGE + 1 }, (_, i) => ({ name: `t${i}`, image: 'busybox' }));
    const parsed = parse('tasks.submit', list);
    assert.equal(parsed.length, 1);
    assert.ok(parsed[0]!.kind === 'invalid');
    assert.equal(parsed[0]!.rejection.reason, `spec: a list may hold at most ${MAX_SPECS_PER_MESSAGE} specs (got ${MAX_SPECS_PER_MESSAGE + 1}); send several messages`);
  });

  it('an empty list is nothing to do', () => assert.deepEqual(parse('tasks.submit', []), []));

  it('a list is not a cancel', () => {
    const [p] = parse('tasks.cancel', [{ name: 'a' }]);
    assert.ok(p?.kind === 'invalid');
    assert.equal(p.rejection.field, 'name');
  });

  it('malformed JSON is one rejection', () => {
    const [p] = parse('tasks.submit', '[{"name": ');
    assert.ok(p?.kind === 'invalid');
    assert.equal(p.rejection.code, 'invalid_json');
  });
});
