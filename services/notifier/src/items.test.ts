import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Subjects, type TaskEvent } from '@tangerine/contracts';
import type { TaskFacts } from '@tangerine/ledger';
import { DEFAULT_NOTIFY, fromDeadLetter, fromFleetEvent, fromHostEvent, fromScalingEvent, fromSkippedFire, fromTaskEvent, groupKey, type NotifyKind } from './items.js';

const AT = '2026-12-01T10:00:00.000Z';
function event(extra: Partial<TaskEvent>): TaskEvent {
  return { name: 'etl', state: 'failed', from: 'running', attempt: 3, failures: 3, version: 9, host: 'h1', reason: 'exit code 2', exit_code: 2, at: AT, ...extra };
}
function facts(extra: Partial<TaskFacts> = {}): TaskFacts {
  return {
    name: 'etl', notify: null, max_failures: 3, constraints: {}, exit_code: 2, output_tail: 'line 1\nline 2\n',
    started_at: new Date('2026-12-01T09:59:00Z'), finished_at: new Date('2026-12-01T09:59:42.5Z'), ...extra,
  };
}

describe('fromTaskEvent: which task events are told, and under which key', () => {
  const cases: [string, TaskEvent, TaskFacts | undefined, readonly NotifyKind[], string | null, string | null][] = [
    ['a task failed for good', event({}), facts(), DEFAULT_NOTIFY, 'task/etl/9', 'failed'],
    ['a retry (back to ready) is not told', event({ state: 'ready', reason: 'exit code 2: retrying' }), facts(), DEFAULT_NOTIFY, null, null],
    ['a running task is not told', event({ state: 'running', from: 'placed' }), facts(), DEFAULT_NOTIFY, null, null],
    ['a blocked task is told', event({ state: 'blocked', from: 'waiting', reason: 'dependency a is failed', host: null, exit_code: null }), facts(), DEFAULT_NOTIFY, 'task/etl/9', 'blocked'],
    ['a success is off by default', event({ state: 'success', exit_code: 0 }), facts(), DEFAULT_NOTIFY, null, null],
    ['a success the spec asks for is told', event({ state: 'success', exit_code: 0 }), facts({ notify: ['success', 'failed'] }), DEFAULT_NOTIFY, 'task/etl/9', 'success'],
    ['a spec with notify [] silences a failure', event({}), facts({ notify: [] }), DEFAULT_NOTIFY, null, null],
    ['a spec without blocked in notify silences its block', event({ state: 'blocked', from: 'waiting' }), facts({ notify: ['success'] }), DEFAULT_NOTIFY, null, null],
    ['a cancel is off by default', event({ state: 'cancelled' }), facts(), DEFAULT_NOTIFY, null, null],
    ['NOTIFY_EVENTS may turn cancels on', event({ state: 'cancelled' }), facts(), ['cancelled'], 'task/etl/9', 'cancelled'],
    ['NOTIFY_EVENTS without failed silences failures', event({}), facts(), ['blocked'], null, null],
    ['a run lost with its host, requeued, goes with the host', event({ state: 'ready', reason: 'host_lost: host h1 stopped answering' }), undefined, DEFAULT_NOTIFY, 'task/etl/9', 'host/h1'],
    ['a run lost with its host, failed, goes with the host', event({ state: 'failed', reason: 'host_lost: host h1 stopped answering' }), undefined, DEFAULT_NOTIFY, 'task/etl/9', 'host/h1'],
    ['a run lost by an agent restart goes with the host', event({ state: 'ready', from: 'placed', reason: 'run_lost: the agent on h1 restarted without it' }), undefined, DEFAULT_NOTIFY, 'task/etl/9', 'host/h1'],
    ['lost runs are silent without host_lost', event({ state: 'ready', reason: 'host_lost: host h1 stopped answering' }), undefined, ['failed'], null, null],
    ['a task whose row is gone is told with what its event says', event({}), undefined, DEFAULT_NOTIFY, 'task/etl/9', 'failed'],
  ];
  for (const [what, e, f, kinds, key, group] of cases) {
    it(what, () => {
      const n = fromTaskEvent(e, f, kinds);
      assert.equal(n?.key ?? null, key);
      assert.equal(n?.group_key ?? null, group);
    });
  }

  it('keeps the facts a failure message shows', () => {
    assert.deepEqual(fromTaskEvent(event({}), facts(), DEFAULT_NOTIFY)?.item, {
      type: 'task', task: 'etl', state: 'failed', attempt: 3, max_failures: 3, host: 'h1', exit_code: 2, reason: 'exit code 2',
      output_tail: 'line 1\nline 2\n', duration_s: 42.5, at: AT,
    });
  });

  it('a blocked task keeps no output nor duration: its last run is not what it is told for', () => {
    const item = fromTaskEvent(event({ state: 'blocked', from: 'waiting', reason: 'dependency a is failed' }), facts(), DEFAULT_NOTIFY)?.item;
    assert.equal(item?.type === 'task' && item.output_tail, null);
    assert.equal(item?.type === 'task' && item.duration_s, null);
  });
});

describe('the other events', () => {
  it('a host down is told under its host', () => {
    const n = fromHostEvent({ host: 'h3', state: 'down', from: 'up', reason: 'no heartbeat for 10 s', at: AT }, DEFAULT_NOTIFY);
    assert.deepEqual([n?.key, n?.group_key], [`host/h3/down/${AT}`, 'host/h3']);
  });
  const hostCases: [string, 'up' | 'draining' | 'removed', boolean][] = [['up', 'up', false], ['draining', 'draining', false], ['removed', 'removed', false]];
  for (const [what, state] of hostCases) {
    it(`a host ${what} is not told`, () => assert.equal(fromHostEvent({ host: 'h3', state, from: 'down', reason: null, at: AT }, DEFAULT_NOTIFY), null));
  }
  it('the fleet\'s silence is told', () => {
    assert.equal(fromFleetEvent({ kind: 'silence_suspected', silent: 9, total: 10, reason: 'most hosts silent', at: AT }, DEFAULT_NOTIFY)?.group_key, 'fleet');
    assert.equal(fromFleetEvent({ kind: 'silence_suspected', silent: 9, total: 10, reason: 'x', at: AT }, ['failed']), null);
  });
  const dead = { stream: 'TANGERINE_REPORTS', consumer: 'monitor', subject: Subjects.runExited.make('h1'), seq: 7, deliveries: 5, code: 'invalid_message', reason: 'payload: is not valid JSON', payload: '{', bytes: 1, at: AT };
  it('a dead letter is told under its consumer, by its stream and sequence', () => {
    const n = fromDeadLetter(dead, DEFAULT_NOTIFY, ['notifier']);
    assert.deepEqual([n?.key, n?.group_key], ['dead/TANGERINE_REPORTS/monitor/7', 'dead/monitor']);
  });
  it('the notifier\'s own dead letters are not told (they would feed on themselves)', () => {
    assert.equal(fromDeadLetter({ ...dead, consumer: 'notifier' }, DEFAULT_NOTIFY, ['notifier', 'notifier-dead']), null);
  });
});

describe('fromScalingEvent', () => {
  const cases: [string, Parameters<typeof fromScalingEvent>[0], readonly NotifyKind[], string | null][] = [
    ['a provider error is told by default', { provider: 'spot-fleet', kind: 'error', code: 'RequestLimitExceeded', reason: 'describe: throttled', at: AT }, DEFAULT_NOTIFY, `scaling/spot-fleet/error//${AT}`],
    ['a launch given up is told by default', { provider: 'local', kind: 'given_up', instance: 'i-1', reason: 'did not join within 600 s', at: AT }, DEFAULT_NOTIFY, `scaling/local/given_up/i-1/${AT}`],
    ['an orphan is told by default', { provider: 'local', kind: 'orphan', host: 'auto-1', instance: 'i-1', reason: 'listed', at: AT }, DEFAULT_NOTIFY, `scaling/local/orphan/auto-1/${AT}`],
    ['a target change is off by default', { provider: 'local', kind: 'target', from: 0, to: 5, reason: '40 task slots wait', at: AT }, DEFAULT_NOTIFY, null],
    ['a drain is off by default', { provider: 'local', kind: 'drain', host: 'auto-2', reason: 'idle', at: AT }, DEFAULT_NOTIFY, null],
    ['a target change is told with scaling', { provider: 'local', kind: 'target', from: 0, to: 5, reason: 'r', at: AT }, ['scaling'], `scaling/local/target//${AT}`],
    ['an error is not told with scaling alone', { provider: 'local', kind: 'error', code: 'X', reason: 'r', at: AT }, ['scaling'], null],
  ];
  for (const [what, e, kinds, key] of cases) {
    it(what, () => {
      const n = fromScalingEvent(e, kinds);
      assert.equal(n?.key ?? null, key);
      if (n) assert.equal(n.group_key, `scaling/${e.provider}`);
    });
  }
});

describe('fromSkippedFire', () => {
  const fire = {
    task: 'nightly', fire_time: new Date('2026-12-01T02:00:00Z'), missed_from: null, recorded_at: new Date(AT),
    position: { recorded_at: AT, task: 'nightly', fire_time: '2026-12-01T02:00:00Z' },
  };
  it('a fire time skipped past its deadline is told under cron, once per task and fire time', () => {
    const n = fromSkippedFire(fire, DEFAULT_NOTIFY);
    assert.deepEqual(n, {
      key: 'fire/nightly/2026-12-01T02:00:00.000Z', group_key: 'cron',
      item: { type: 'fire_skipped', task: 'nightly', state: 'skipped_deadline', fire_time: '2026-12-01T02:00:00.000Z', missed_from: null, at: AT },
    });
  });
  it('is silent without cron_skipped', () => assert.equal(fromSkippedFire(fire, ['failed']), null));
});

describe('groupKey', () => {
  const cases: [Parameters<typeof groupKey>[0], string][] = [
    [{ type: 'task', task: 'a', state: 'failed', attempt: 1, max_failures: 3, host: null, exit_code: 1, reason: null, output_tail: null, duration_s: null, at: AT }, 'failed'],
    [{ type: 'task', task: 'a', state: 'success', attempt: 1, max_failures: 3, host: null, exit_code: 0, reason: null, output_tail: null, duration_s: null, at: AT }, 'success'],
    [{ type: 'task_lost', task: 'a', state: 'ready', attempt: 1, host: 'h3', reason: null, at: AT }, 'host/h3'],
    [{ type: 'host_down', host: 'h3', state: 'down', reason: null, at: AT }, 'host/h3'],
    [{ type: 'fire_skipped', task: 'a', state: 'skipped_deadline', fire_time: AT, missed_from: null, at: AT }, 'cron'],
    [{ type: 'fleet', kind: 'silence_cleared', state: 'silence_cleared', silent: 0, total: 3, reason: 'x', at: AT }, 'fleet'],
    [{ type: 'dead_letter', consumer: 'intake', stream: 'S', subject: 's', seq: 1, state: 'c', reason: 'r', at: AT }, 'dead/intake'],
  ];
  for (const [item, key] of cases) it(`${item.type} → ${key}`, () => assert.equal(groupKey(item), key));
});
