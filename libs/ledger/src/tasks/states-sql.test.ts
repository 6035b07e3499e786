import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ON_HOST_STATES, TaskState } from '@tangerine/contracts';
import { sqlState, sqlStates } from './states-sql.js';

describe('states written into SQL', () => {
  const table: [string, () => string, string][] = [
    ['one state', () => sqlState(TaskState.ready), "'ready'"],
    ['a group', () => sqlStates(ON_HOST_STATES), "('placed', 'running')"],
  ];
  for (const [label, make, expected] of table) it(label, () => assert.equal(make(), expected));

  const refused: [string, () => string, RegExp][] = [
    ['a value that is not a state', () => sqlState("ready' OR true --" as TaskState), /is not a task state/],
    ['a state in a group', () => sqlStates(['placed', 'gone' as TaskState]), /"gone" is not a task state/],
    ['an empty group', () => sqlStates([]), /empty group/],
  ];
  for (const [label, make, error] of refused) it(`refuses ${label}`, () => assert.throws(make, error));
});
