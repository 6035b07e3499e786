import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutputChunk } from '@tangerine/contracts';
import { OutputJoin, runGoesOn } from './follow.js';

const chunk = (offset: number, data: string, skipped?: number): OutputChunk =>
  ({ name: 't', attempt: 1, host: 'h', offset, data, at: '2026-12-01T00:00:00.000Z', ...(skipped ? { skipped } : {}) });

describe('runGoesOn', () => {
  const cases: [string, { attempt: number; state: never }, number, boolean][] = [
    ['its run, running', { attempt: 1, state: 'running' as never }, 1, true],
    ['its run, placed', { attempt: 1, state: 'placed' as never }, 1, true],
    ['its run ended in success', { attempt: 1, state: 'success' as never }, 1, false],
    ['its run failed and a retry waits', { attempt: 1, state: 'ready' as never }, 1, false],
    ['a later attempt runs', { attempt: 2, state: 'running' as never }, 1, false],
    ['the attempt is still to come', { attempt: 1, state: 'ready' as never }, 2, true],
    ['the attempt will never come: the task is finished', { attempt: 1, state: 'failed' as never }, 2, false],
  ];
  for (const [what, view, attempt, want] of cases) it(what, () => assert.equal(runGoesOn(view, attempt), want));
});

describe('OutputJoin', () => {
  it('gives each character once: a repeat is dropped, an overlap cut', () => {
    const j = new OutputJoin();
    assert.deepEqual(j.add(chunk(0, 'ab')), chunk(0, 'ab'));
    assert.equal(j.add(chunk(0, 'ab')), null);
    assert.deepEqual(j.add(chunk(1, 'bcd')), chunk(2, 'cd'));
    assert.equal(j.next, 4);
  });

  it('completes with the stored output what was heard from the start', () => {
    const j = new OutputJoin();
    j.add(chunk(0, 'line 1\n'));
    assert.deepEqual(j.rest('line 1\nline 2\n'), { offset: 7, data: 'line 2\n' });
    assert.equal(j.rest('line 1\n'), null, 'nothing more');
  });

  it('gives the whole stored output when nothing was heard', () => {
    assert.deepEqual(new OutputJoin().rest('all\n'), { offset: 0, data: 'all\n' });
    assert.equal(new OutputJoin().rest(''), null);
  });

  it('after a gap (joined late, or skipped) adds nothing from the stored output, which cannot be placed', () => {
    const late = new OutputJoin();
    assert.deepEqual(late.add(chunk(10, 'x')), chunk(10, 'x'));
    assert.equal(late.rest('0123456789xyz'), null);
    const skipped = new OutputJoin();
    assert.deepEqual(skipped.add(chunk(5, 'y', 5)), chunk(5, 'y', 5));
    assert.equal(skipped.rest('01234yz'), null);
  });

  it('yields a chunk that only says a skip', () => {
    const j = new OutputJoin();
    j.add(chunk(0, 'a'));
    assert.deepEqual(j.add(chunk(9, '', 8)), chunk(9, '', 8));
    assert.equal(j.next, 9);
  });
});
