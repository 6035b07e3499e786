import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleError } from '@tangerine/runtime';
import { allows, parseTokens } from './tokens.js';

const W = 'w'.repeat(32);
const R = 'r0123456789abcdef';

describe('parseTokens: one token a line, "<token> <read|write> [<name>]"', () => {
  it('reads tokens, their access and names, skipping comments and blank lines', () => {
    const list = parseTokens(`# the CI's token\n${W} write ci\n\n   ${R}   read   # a dashboard\n`);
    assert.deepEqual(list.entries.map((e) => [e.name, e.access]), [['ci', 'write'], ['line-4', 'read']]);
    assert.equal(list.find(W)?.name, 'ci');
    assert.equal(list.find(R)?.access, 'read');
  });

  it('finds no entry for a token not in the list, nor for one that differs by one character', () => {
    const list = parseTokens(`${W} write`);
    assert.equal(list.find('x'.repeat(32)), null);
    assert.equal(list.find(`${W.slice(0, -1)}x`), null);
    assert.equal(list.find(''), null);
  });

  it('keeps no token in the clear: neither in its entries nor in what a log shows', () => {
    const list = parseTokens(`${W} write ci`);
    assert.doesNotMatch(JSON.stringify(list), new RegExp(W));
    assert.doesNotMatch(JSON.stringify(list.entries), new RegExp(W));
    assert.equal(JSON.stringify(list), '"1 token(s): ci (write)"');
  });

  const refused: [string, string, string][] = [
    ['an empty list', '# nothing\n', 'holds no token'],
    ['a short token', 'abc write', 'line 1: the token must be at least 16 characters'],
    ['an unknown access', `${W} admin`, 'line 1: the access must be read or write (got "admin")'],
    ['no access', `${W}`, 'line 1: the access must be read or write (got nothing)'],
    ['too many words', `${W} read a b`, 'line 1: must be "<token> <read|write> [<name>]" (it has 4 words)'],
    ['a bad name', `${W} read -x`, 'line 1: the name must match'],
    ['a name twice', `${W} read ci\n${R} read ci`, 'line 2: the name "ci" is given twice'],
    ['a token with a quote', `"${W}" read`, 'line 1: the token must be letters, digits'],
  ];
  for (const [what, text, message] of refused) {
    it(`refuses ${what}, naming the line, never the token`, () => {
      assert.throws(() => parseTokens(text), (err: unknown) => {
        assert.ok(err instanceof RuleError);
        assert.ok(err.message.startsWith(message), err.message);
        assert.doesNotMatch(err.message, new RegExp(W));
        return true;
      });
    });
  }
});

describe('allows: write may read', () => {
  const table: [Parameters<typeof allows>[0], Parameters<typeof allows>[1], boolean][] = [
    ['write', 'write', true], ['write', 'read', true], ['read', 'read', true], ['read', 'write', false],
  ];
  for (const [has, needs, ok] of table) it(`${has} on a ${needs} route: ${ok}`, () => assert.equal(allows(has, needs), ok));
});
