import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BLOCKABLE_STATES, CANCELLABLE_STATES, FINISHED_STATES, IDLE_STATES, ON_HOST_STATES, SLOT_FREEING_STATES, STOPPED_STATES, TASK_STATES,
  TRANSITIONS, TaskState, UNSUCCESSFUL_STATES, canTransition, isFinished, isTaskState,
} from './states.js';

const ALL = ['waiting', 'scheduled', 'ready', 'placed', 'running', 'success', 'failed', 'blocked', 'cancelled'] as const;

/** The state machine as the docs describe it, written out independently of the module. */
const ALLOWED: readonly [TaskState, TaskState][] = [
  ['waiting', 'ready'], ['waiting', 'blocked'], ['waiting', 'cancelled'],
  ['scheduled', 'ready'], ['scheduled', 'waiting'], ['scheduled', 'blocked'], ['scheduled', 'cancelled'],
  ['ready', 'placed'], ['ready', 'cancelled'],
  ['placed', 'running'], ['placed', 'success'], ['placed', 'ready'], ['placed', 'failed'], ['placed', 'scheduled'], ['placed', 'cancelled'],
  ['running', 'success'], ['running', 'ready'], ['running', 'failed'], ['running', 'scheduled'], ['running', 'cancelled'],
  ['success', 'waiting'], ['success', 'scheduled'], ['success', 'ready'], ['success', 'blocked'],
  ['failed', 'waiting'], ['failed', 'scheduled'], ['failed', 'ready'], ['failed', 'blocked'],
  ['blocked', 'waiting'], ['blocked', 'scheduled'], ['blocked', 'ready'], ['blocked', 'blocked'],
  ['cancelled', 'waiting'], ['cancelled', 'scheduled'], ['cancelled', 'ready'], ['cancelled', 'blocked'],
];

describe('task states', () => {
  it('lists every state once, in lifecycle order', () => {
    assert.deepEqual([...TASK_STATES], [...ALL]);
    assert.deepEqual(Object.keys(TaskState), [...ALL]);
  });

  it('groups states as documented', () => {
    assert.deepEqual([...FINISHED_STATES].sort(), ['blocked', 'cancelled', 'failed', 'success']);
    assert.deepEqual([...ON_HOST_STATES].sort(), ['placed', 'running']);
    assert.deepEqual([...CANCELLABLE_STATES].sort(), ['placed', 'ready', 'running', 'scheduled', 'waiting']);
    assert.deepEqual([...UNSUCCESSFUL_STATES].sort(), ['blocked', 'cancelled', 'failed']);
    assert.deepEqual([...STOPPED_STATES].sort(), ['blocked', 'cancelled']);
    assert.deepEqual([...BLOCKABLE_STATES].sort(), ['scheduled', 'waiting']);
    assert.deepEqual([...IDLE_STATES].sort(), ['failed', 'scheduled', 'success']);
  });

  // The placer frees a slot on the events of these states. It once listed success, failed, cancelled and ready
  // only: a cron run lost to an agent restart (running → scheduled) kept its slot until the next refresh.
  it('a task that leaves a host frees its slot, whatever state it goes to (scheduled too)', () => {
    assert.deepEqual([...SLOT_FREEING_STATES].sort(), ['cancelled', 'failed', 'ready', 'scheduled', 'success']);
    for (const from of ON_HOST_STATES) {
      for (const to of TRANSITIONS[from]) {
        assert.equal(ON_HOST_STATES.includes(to) || SLOT_FREEING_STATES.includes(to), true, `${from} → ${to}`);
      }
    }
  });

  it('a blockable state is one that can become blocked and is not finished', () => {
    for (const s of ALL) assert.equal(BLOCKABLE_STATES.includes(s), canTransition(s, 'blocked') && !isFinished(s), s);
  });

  it('the unsuccessful states are the finished ones but success, and hold the stopped ones', () => {
    assert.deepEqual([...UNSUCCESSFUL_STATES], FINISHED_STATES.filter((s) => s !== TaskState.success));
    for (const s of STOPPED_STATES) assert.equal(UNSUCCESSFUL_STATES.includes(s), true, s);
  });

  const finished: [TaskState, boolean][] = [
    ['waiting', false], ['scheduled', false], ['ready', false], ['placed', false], ['running', false],
    ['success', true], ['failed', true], ['blocked', true], ['cancelled', true],
  ];
  for (const [state, expected] of finished) {
    it(`isFinished(${state}) is ${expected}`, () => assert.equal(isFinished(state), expected));
  }

  it('a state is cancellable exactly when it is not finished', () => {
    for (const s of ALL) assert.equal(CANCELLABLE_STATES.includes(s), !isFinished(s), s);
  });
});

describe('canTransition: allowed pairs', () => {
  for (const [from, to] of ALLOWED) {
    it(`${from} → ${to}`, () => assert.equal(canTransition(from, to), true));
  }
});

describe('canTransition: forbidden pairs', () => {
  const forbidden: [TaskState, TaskState][] = [
    ['success', 'running'], ['waiting', 'running'], ['cancelled', 'placed'], ['blocked', 'success'],
    ['waiting', 'placed'], ['waiting', 'success'], ['waiting', 'waiting'],
    ['ready', 'running'], ['ready', 'success'], ['ready', 'failed'], ['ready', 'waiting'], ['ready', 'blocked'],
    ['placed', 'waiting'], ['placed', 'blocked'], ['placed', 'placed'],
    ['running', 'placed'], ['running', 'waiting'], ['running', 'blocked'], ['running', 'running'],
    ['success', 'success'], ['success', 'failed'], ['success', 'cancelled'], ['success', 'placed'],
    ['failed', 'running'], ['failed', 'cancelled'], ['failed', 'failed'],
    ['cancelled', 'cancelled'], ['cancelled', 'running'], ['blocked', 'cancelled'],
  ];
  for (const [from, to] of forbidden) {
    it(`${from} ↛ ${to}`, () => assert.equal(canTransition(from, to), false));
  }

  it('every pair outside the documented table is refused (all 81 pairs)', () => {
    const allowed = new Set(ALLOWED.map(([a, b]) => `${a}>${b}`));
    let checked = 0;
    for (const from of ALL) {
      for (const to of ALL) {
        assert.equal(canTransition(from, to), allowed.has(`${from}>${to}`), `${from} → ${to}`);
        checked += 1;
      }
    }
    assert.equal(checked, 81);
    assert.equal(Object.values(TRANSITIONS).reduce((n, list) => n + list.length, 0), ALLOWED.length);
  });

  it('a finished state only leads back to waiting, scheduled, ready or blocked (a new submission, or a cron task going on)', () => {
    for (const from of FINISHED_STATES) assert.deepEqual([...TRANSITIONS[from]].sort(), ['blocked', 'ready', 'scheduled', 'waiting']);
  });
});

describe('isTaskState', () => {
  for (const s of ALL) it(`accepts "${s}"`, () => assert.equal(isTaskState(s), true));

  const not: unknown[] = ['sleeping', '', 'Running', 'READY', ' ready', 'ready ', 'done', null, undefined, 0, 1, true, {}, ['ready'], { state: 'ready' }];
  for (const v of not) {
    it(`rejects ${JSON.stringify(v) ?? 'undefined'}`, () => assert.equal(isTaskState(v), false));
  }
});
