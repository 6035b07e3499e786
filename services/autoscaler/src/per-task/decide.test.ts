import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskState } from '@tangerine/contracts';
import { judge, strays, type Verdict } from './decide.js';

describe('judge', () => {
  const cases: Array<[string, TaskState | null, string | null, string | null, Verdict]> = [
    ['a ready task without one: launch', 'ready', null, null, { action: 'launch' }],
    ['a running task on a running instance: keep', 'running', 'i-0123456789abcdef0', 'running', { action: 'keep' }],
    ['placed, the instance still pending: keep', 'placed', 'i-0123456789abcdef0', 'pending', { action: 'keep' }],
    ['ready, just launched, not described yet: keep', 'ready', 'i-0123456789abcdef0', null, { action: 'keep' }],
    ['a retry waits on the same instance', 'ready', 'i-0123456789abcdef0', 'running', { action: 'keep' }],
    ['success: terminate', 'success', 'i-0123456789abcdef0', 'running', { action: 'terminate', reason: 'the task is success' }],
    ['failed: terminate', 'failed', 'i-0123456789abcdef0', 'running', { action: 'terminate', reason: 'the task is failed' }],
    ['cancelled: terminate', 'cancelled', 'i-0123456789abcdef0', 'pending', { action: 'terminate', reason: 'the task is cancelled' }],
    ['blocked: terminate', 'blocked', 'i-0123456789abcdef0', 'running', { action: 'terminate', reason: 'the task is blocked' }],
    ['a cron task back to scheduled: terminate', 'scheduled', 'i-0123456789abcdef0', 'running', { action: 'terminate', reason: 'the task is scheduled' }],
    ['the task gone: terminate', null, 'i-0123456789abcdef0', 'running', { action: 'terminate', reason: 'the task is gone' }],
    ['ended, not described (yet): terminate anyway', 'success', 'i-0123456789abcdef0', null, { action: 'terminate', reason: 'the task is success' }],
    ['ended, already terminated: end', 'success', 'i-0123456789abcdef0', 'terminated',
      { action: 'end', state: 'terminated', reason: 'the task is success; its instance was terminated already' }],
    ['ended before the launch: end', 'cancelled', null, null, { action: 'end', state: 'not-launched', reason: 'the task is cancelled before its instance was launched' }],
    ['interrupted while running: lost', 'running', 'i-0123456789abcdef0', 'shutting-down',
      { action: 'end', state: 'shutting-down', reason: 'lost: EC2 has the instance shutting-down' }],
    ['stopped under a ready task: lost', 'ready', 'i-0123456789abcdef0', 'stopped', { action: 'end', state: 'stopped', reason: 'lost: EC2 has the instance stopped' }],
  ];
  for (const [what, taskState, instanceId, ec2State, want] of cases) {
    it(what, () => assert.deepEqual(judge({ taskState, instanceId, ec2State }), want));
  }
});

describe('strays', () => {
  const open = [{ id: '1', instanceId: 'i-aaaaaaaa' }, { id: '2', instanceId: null }];
  const cases: Array<[string, { instanceId: string; launch: string | null }, boolean]> = [
    ['the instance of an open row stays', { instanceId: 'i-aaaaaaaa', launch: '1' }, false],
    ['one of a row still launching stays (its launch gets it back)', { instanceId: 'i-bbbbbbbb', launch: '2' }, false],
    ['a second instance of an open row goes', { instanceId: 'i-cccccccc', launch: '1' }, true],
    ['one of an ended or unknown row goes', { instanceId: 'i-dddddddd', launch: '3' }, true],
    ['one without the launch tag goes', { instanceId: 'i-eeeeeeee', launch: null }, true],
  ];
  for (const [what, tagged, gone] of cases) {
    it(what, () => assert.deepEqual(strays([tagged], open), gone ? [tagged.instanceId] : []));
  }
});
