import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TASK_LABEL, hostTakes, placementConstraints } from './task-instance.js';

describe('placementConstraints', () => {
  const cases: Array<[string, Record<string, string>, boolean, Record<string, string>]> = [
    ['a task without an instance keeps its constraints', { zone: 'a' }, false, { zone: 'a' }],
    ['a task with an instance is bound to its host', {}, true, { [TASK_LABEL]: 'job' }],
    ['its own constraints stay beside', { zone: 'a' }, true, { zone: 'a', [TASK_LABEL]: 'job' }],
    ['a task label of its own is overridden by its name', { [TASK_LABEL]: 'other' }, true, { [TASK_LABEL]: 'job' }],
  ];
  for (const [what, constraints, own, want] of cases) {
    it(what, () => assert.deepEqual(placementConstraints('job', constraints, own), want));
  }
  it('gives the same object when nothing is added', () => {
    const c = { zone: 'a' };
    assert.equal(placementConstraints('job', c, false), c);
  });
});

describe('hostTakes', () => {
  const cases: Array<[string, Record<string, string>, Record<string, string>, boolean]> = [
    ['an ordinary host takes an ordinary task', { zone: 'a' }, {}, true],
    ['an ordinary host passes the label match to fits', {}, { [TASK_LABEL]: 'job' }, true],
    ["a task's own host takes that task", { [TASK_LABEL]: 'job' }, { [TASK_LABEL]: 'job' }, true],
    ["a task's own host refuses a task without constraints", { [TASK_LABEL]: 'job' }, {}, false],
    ["a task's own host refuses another task's", { [TASK_LABEL]: 'job' }, { [TASK_LABEL]: 'job2' }, false],
    ["a task's own host refuses a task that only shares its other labels", { [TASK_LABEL]: 'job', zone: 'a' }, { zone: 'a' }, false],
  ];
  for (const [what, labels, constraints, want] of cases) {
    it(what, () => assert.equal(hostTakes(labels, constraints), want));
  }
});
