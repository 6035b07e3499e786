import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refKey, sameJson } from './templates.js';

describe('sameJson: a template\'s content against a stored version', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['objects whose keys come in another order', { a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 }, true],
    ['a list in another order', [1, 2], [2, 1], false],
    ['a key more', { a: 1 }, { a: 1, b: 2 }, false],
    ['a value that differs deep down', { env: { A: '1' } }, { env: { A: '2' } }, false],
    ['null and an empty object', null, {}, false],
    ['a list and an object', [], {}, false],
    ['a number and its text', 1, '1', false],
    ['two empty objects', {}, {}, true],
  ];
  for (const [what, a, b, same] of cases) it(`${what}: ${same ? 'same' : 'not the same'}`, () => assert.equal(sameJson(a, b), same));
});

describe('refKey', () => {
  it('names the latest by the name alone and a version by name:version', () => {
    assert.equal(refKey({ name: 'py', version: null }), 'py');
    assert.equal(refKey({ name: 'py', version: 3 }), 'py:3');
  });
});
