import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskState } from '@tangerine/contracts';
import { HopClock, hopOf } from './hops.js';

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
type Step = [name: string, state: TaskState, version: number, atS: number, expected: [string, number] | null];

describe('HopClock: each hop timed from the task\'s previous event', () => {
  const cases: [string, Step[]][] = [
    ['a task submitted ready, run, succeeded', [
      ['a', 'ready', 1, 0, null], ['a', 'placed', 2, 0.5, ['placed', 0.5]], ['a', 'running', 3, 0.75, ['running', 0.25]],
      ['a', 'success', 4, 3.75, ['finished', 3]],
    ]],
    ['a task that waited for its dependency', [['w', 'waiting', 1, 0, null], ['w', 'ready', 2, 10, ['ready', 10]]]],
    ['a failed run retried: ready again after the backoff, then failed for good', [
      ['r', 'running', 3, 0, null], ['r', 'ready', 4, 2, ['ready', 2]], ['r', 'placed', 5, 2.1, ['placed', 0.1]],
      ['r', 'running', 6, 2.2, ['running', 0.1]], ['r', 'failed', 7, 4.2, ['finished', 2]],
    ]],
    ['a version gap (a change without an event seen) still times from the last event seen', [
      ['g', 'ready', 1, 0, null], ['g', 'placed', 3, 1, ['placed', 1]],
    ]],
    ['an event seen again, or older than the last one, times nothing', [
      ['d', 'ready', 1, 0, null], ['d', 'placed', 2, 1, ['placed', 1]], ['d', 'placed', 2, 1, null], ['d', 'ready', 1, 0, null],
      ['d', 'running', 3, 1.5, ['running', 0.5]],
    ]],
    ['a cancelled task is forgotten: its name submitted again starts over', [
      ['c', 'ready', 1, 0, null], ['c', 'cancelled', 2, 1, null], ['c', 'ready', 3, 5, null],
    ]],
    ['a cron task: success, scheduled, then ready at its fire time', [
      ['k', 'success', 4, 0, null], ['k', 'scheduled', 5, 0.01, null], ['k', 'ready', 6, 60, ['ready', 59.99]],
    ]],
    ['tasks are timed apart', [
      ['x', 'ready', 1, 0, null], ['y', 'ready', 1, 1, null], ['x', 'placed', 2, 2, ['placed', 2]], ['y', 'placed', 2, 2.5, ['placed', 1.5]],
    ]],
    ['a time before the previous one (clocks) times nothing', [['t', 'ready', 1, 5, null], ['t', 'placed', 2, 4, null]]],
  ];
  for (const [name, steps] of cases) {
    it(name, () => {
      const clock = new HopClock();
      for (const [task, state, version, atS, expected] of steps) {
        const timed = clock.see({ name: task, state, version, at: at(atS) });
        const got = timed ? [timed.hop, Math.round(timed.seconds * 1000) / 1000] : null;
        assert.deepEqual(got, expected, `${task} ${state} v${version}`);
      }
    });
  }

  it('remembers at most its bound of tasks, forgetting the least recently changed', () => {
    const clock = new HopClock(2);
    clock.see({ name: 'a', state: 'ready', version: 1, at: at(0) });
    clock.see({ name: 'b', state: 'ready', version: 1, at: at(0) });
    clock.see({ name: 'a', state: 'placed', version: 2, at: at(1) });
    clock.see({ name: 'c', state: 'ready', version: 1, at: at(1) });
    assert.equal(clock.size, 2);
    assert.deepEqual(clock.see({ name: 'a', state: 'running', version: 3, at: at(3) }), { hop: 'running', seconds: 2 });
    assert.equal(clock.see({ name: 'b', state: 'placed', version: 2, at: at(2) }), null, 'b was forgotten');
  });
});

describe('hopOf', () => {
  const cases: [TaskState, string | null][] = [
    ['waiting', null], ['scheduled', null], ['ready', 'ready'], ['placed', 'placed'], ['running', 'running'],
    ['success', 'finished'], ['failed', 'finished'], ['blocked', null], ['cancelled', null],
  ];
  for (const [state, hop] of cases) it(`${state} → ${hop}`, () => assert.equal(hopOf(state), hop));
});
