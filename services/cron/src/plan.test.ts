import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskSpec, TaskState } from '@tangerine/contracts';
import type { DueTask } from '@tangerine/ledger';
import { childName, planFires } from './plan.js';

function due(state: TaskState, nextRunAt: string, fields: Partial<TaskSpec>): DueTask {
  const spec: TaskSpec = {
    name: 'job', executor: 'process', image: null, command: ['true'], entrypoint: null, env: {}, secret_env: {}, volumes: [],
    dependencies: ['dep'], restartable: true, recoverable_exitcodes: [], max_failures: 3, retry_delay: 1, retry_max_delay: 300, constraints: {}, cpu: null,
    memory: null, cron: null, timezone: null, concurrency: 'forbid', starting_deadline: 300, schedule_at: null, timeout: null, ...fields,
  };
  return { name: 'job', state, version: 7, next_run_at: new Date(nextRunAt), spec, attempt: 2, host: 'h1' };
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const EVERY_2S: Partial<TaskSpec> = { cron: '*/2 * * * * *', timezone: 'UTC' };

describe('planFires: what the cron service does with a due task', () => {
  const NOW = new Date('2026-11-22T12:00:00.300Z');
  const cases: [string, DueTask, Date, { outcome: string; fire_time: string; missed_from: string | null; next_run_at: string | null; child: string | null }][] = [
    ['on time, idle → fired, next fire time set', due('scheduled', '2026-11-22T12:00:00Z', EVERY_2S), NOW,
      { outcome: 'fired', fire_time: '2026-11-22T12:00:00.000Z', missed_from: null, next_run_at: '2026-11-22T12:00:02.000Z', child: null }],
    ['after a success not yet moved on, it counts as idle', due('success', '2026-11-22T12:00:00Z', EVERY_2S), NOW,
      { outcome: 'fired', fire_time: '2026-11-22T12:00:00.000Z', missed_from: null, next_run_at: '2026-11-22T12:00:02.000Z', child: null }],
    ['a run going, forbid → skipped_busy', due('running', '2026-11-22T12:00:00Z', EVERY_2S), NOW,
      { outcome: 'skipped_busy', fire_time: '2026-11-22T12:00:00.000Z', missed_from: null, next_run_at: '2026-11-22T12:00:02.000Z', child: null }],
    ['waiting for a host or a dependency counts as busy', due('ready', '2026-11-22T12:00:00Z', EVERY_2S), NOW,
      { outcome: 'skipped_busy', fire_time: '2026-11-22T12:00:00.000Z', missed_from: null, next_run_at: '2026-11-22T12:00:02.000Z', child: null }],
    ['a run going, allow → fired as a separate task', due('running', '2026-11-22T12:00:00Z', { ...EVERY_2S, concurrency: 'allow' }), NOW,
      { outcome: 'fired', fire_time: '2026-11-22T12:00:00.000Z', missed_from: null, next_run_at: '2026-11-22T12:00:02.000Z', child: 'job-20261122T120000' }],
    ['ten seconds of missed fire times → one catch-up, naming the first missed', due('scheduled', '2026-11-22T11:59:50Z', EVERY_2S), NOW,
      { outcome: 'fired', fire_time: '2026-11-22T12:00:00.000Z', missed_from: '2026-11-22T11:59:50.000Z', next_run_at: '2026-11-22T12:00:02.000Z', child: null }],
    ['missed by more than starting_deadline → skipped_deadline', due('scheduled', '2026-11-22T12:00:00Z', { cron: '@hourly', timezone: 'UTC' }),
      new Date('2026-11-22T12:10:00Z'),
      { outcome: 'skipped_deadline', fire_time: '2026-11-22T12:00:00.000Z', missed_from: null, next_run_at: '2026-11-22T13:00:00.000Z', child: null }],
    ['a longer starting_deadline lets the same one run', due('scheduled', '2026-11-22T12:00:00Z', { cron: '@hourly', timezone: 'UTC', starting_deadline: 900 }),
      new Date('2026-11-22T12:10:00Z'),
      { outcome: 'fired', fire_time: '2026-11-22T12:00:00.000Z', missed_from: null, next_run_at: '2026-11-22T13:00:00.000Z', child: null }],
    ['schedule_at an hour late still runs, once', due('scheduled', '2026-11-22T11:00:00Z', { schedule_at: '2026-11-22T11:00:00.000Z' }), NOW,
      { outcome: 'fired', fire_time: '2026-11-22T11:00:00.000Z', missed_from: null, next_run_at: null, child: null }],
    ['schedule_at then cron: the cron schedule takes over', due('scheduled', '2026-11-22T12:00:00.100Z', { ...EVERY_2S, schedule_at: '2026-11-22T12:00:00.100Z' }), NOW,
      { outcome: 'fired', fire_time: '2026-11-22T12:00:00.100Z', missed_from: null, next_run_at: '2026-11-22T12:00:02.000Z', child: null }],
  ];
  for (const [label, task, now, expected] of cases) {
    it(label, () => {
      const [fire] = planFires([task], now).fires;
      assert.ok(fire);
      assert.deepEqual({
        outcome: fire.outcome, fire_time: iso(fire.fire_time), missed_from: iso(fire.missed_from), next_run_at: iso(fire.next_run_at),
        child: fire.child?.name ?? null,
      }, expected);
      assert.deepEqual([fire.name, fire.version, fire.from, iso(fire.due)], [task.name, 7, task.state, iso(task.next_run_at)]);
    });
  }

  it('a separate task copies the spec without its schedule or dependencies', () => {
    const [fire] = planFires([due('running', '2026-11-22T12:00:00Z', { ...EVERY_2S, concurrency: 'allow' })], NOW).fires;
    assert.deepEqual(fire?.child?.spec, {
      ...due('running', '2026-11-22T12:00:00Z', EVERY_2S).spec, name: 'job-20261122T120000', cron: null, timezone: null,
      dependencies: [], concurrency: 'forbid',
    });
  });

  it('sets apart a task whose stored schedule cannot be read, and plans the others', () => {
    // A spec stored by an earlier version: under the day-field rule of this one, 30 February on a `*/2` weekday never comes.
    const broken = { ...due('scheduled', '2026-11-22T12:00:00Z', { cron: '0 0 30 2 */2', timezone: 'UTC' }), name: 'old-job' };
    const { fires, unreadable } = planFires([broken, due('scheduled', '2026-11-22T12:00:00Z', EVERY_2S)], NOW);
    assert.deepEqual(fires.map((f) => [f.name, f.outcome]), [['job', 'fired']]);
    assert.equal(unreadable.length, 1);
    assert.equal(unreadable[0]!.name, 'old-job');
    assert.equal(unreadable[0]!.version, 7);
    assert.match(unreadable[0]!.reason, /^cron: the schedule cannot be read \(.+\); cancel the task and submit it again$/);
  });

  const names: [string, string, string][] = [
    ['job', '2026-11-22T12:00:00.000Z', 'job-20261122T120000'],
    ['a_b-c', '2028-02-29T23:59:59.999Z', 'a_b-c-20280229T235959'],
  ];
  for (const [name, at, expected] of names) {
    it(`childName(${name}, ${at}) = ${expected}`, () => assert.equal(childName(name, new Date(at)), expected));
  }
});
