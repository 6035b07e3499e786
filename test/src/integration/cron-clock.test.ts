import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseTaskSpec } from '@tangerine/contracts';
import { config as cronConfig, start as startCron } from '@tangerine/cron-service';
import { getTask, submitTasks } from '@tangerine/ledger';
import type { ServiceContext } from '@tangerine/platform';
import { ManualClock, type Stop } from '@tangerine/runtime';
import { openInProcess, type InProcess } from '../helpers/in-process.js';
import { fixtureSql } from '../helpers/postgres.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * A manual clock that counts its reads. The cron service reads the time once at the start of each pass over the due
 * tasks, and starts a pass only when the one before has finished, and nothing else in this context reads the clock:
 * so the second read after a `set` means a whole pass ran at the new time.
 */
class CountingClock extends ManualClock {
  reads = 0;
  override now(): Date {
    this.reads++;
    return super.now();
  }
}

/**
 * The cron service reads the time only from its context's clock: with a manual clock a test moves time by days
 * and across DST in milliseconds, against the real ledger and NATS.
 */
describe('cron service on a manual clock', () => {
  const clock = new CountingClock('2026-03-07T12:00:00Z');
  let env: InProcess;
  let ctx: ServiceContext;
  let stop: Stop;

  before(async () => {
    env = await openInProcess('cron-clock', clock);
    ({ ctx } = env);
    stop = await startCron({ ...ctx, config: cronConfig.compile({ CRON_TICK: '0.02' }) });
  });
  after(async () => {
    await stop();
    await env.close();
  });

  /** Waits until the service has made a whole pass over the due tasks at the clock's current time. */
  const settle = async () => {
    const at = clock.now().toISOString();
    const from = clock.reads;
    await waitUntil(`a whole cron pass at ${at}`, () => clock.reads >= from + 2, 5000);
  };
  const submit = (seq: number, fields: Record<string, unknown>) =>
    submitTasks(ctx.ledger, [{ seq, spec: parseTaskSpec({ executor: 'process', command: ['true'], ...fields }) }], clock.now());
  const state = async (name: string) => {
    const t = await getTask(ctx.ledger, name);
    return { state: t?.state, next_run_at: t?.next_run_at, fires: t?.fires?.map((f) => [f.outcome, f.fire_time, f.missed_from]) };
  };

  it('holds a schedule_at task until the clock reaches its time, then makes it ready', async () => {
    await submit(1, { name: 'at-noon', schedule_at: '2026-03-08T12:00:00-04:00' });
    clock.set('2026-03-08T15:59:59.999Z');
    await settle();
    assert.equal((await state('at-noon')).state, 'scheduled');
    clock.set('2026-03-08T16:00:00Z');
    await settle();
    assert.deepEqual(await state('at-noon'), {
      state: 'ready', next_run_at: null, fires: [['fired', '2026-03-08T16:00:00.000Z', null]],
    });
  });

  it('fires a daily job in New York at the jump across spring forward, and skips a fire time found days late', async () => {
    clock.set('2026-03-07T12:00:00Z');
    await submit(2, { name: 'at-0230', cron: '30 2 * * *', timezone: 'America/New_York', starting_deadline: 600 });
    // Its first run is the submission's; it waits as scheduled for 02:30, which does not exist on March 8.
    await ctx.ledger.query(fixtureSql("UPDATE tasks SET state = 'scheduled' WHERE name = 'at-0230'"));
    assert.equal((await state('at-0230')).next_run_at, '2026-03-08T07:00:00.000Z');
    clock.set('2026-03-08T07:00:00.010Z');
    await settle();
    assert.deepEqual(await state('at-0230'), {
      state: 'ready', next_run_at: '2026-03-09T06:30:00.000Z', fires: [['fired', '2026-03-08T07:00:00.000Z', null]],
    });
    // Three days on, without running in between: the newest missed fire time is more than 600 s old.
    await ctx.ledger.query(fixtureSql("UPDATE tasks SET state = 'scheduled' WHERE name = 'at-0230'"));
    clock.set('2026-03-11T08:00:00Z');
    await settle();
    const later = await state('at-0230');
    assert.equal(later.state, 'scheduled');
    assert.equal(later.next_run_at, '2026-03-12T06:30:00.000Z');
    assert.deepEqual(later.fires?.[0], ['skipped_deadline', '2026-03-11T06:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('parks a task whose stored schedule it cannot read, and goes on firing the others', async () => {
    clock.set('2026-03-12T12:00:00Z');
    await submit(3, { name: 'old-rule', cron: '0 * * * *' });
    await submit(4, { name: 'hourly', cron: '0 * * * *' });
    // As an earlier version stored it: a schedule this version refuses (30 February on a `*/2` weekday never comes).
    await ctx.ledger.query(fixtureSql(
      `UPDATE tasks SET state = 'scheduled', spec = jsonb_set(spec, '{cron}', '"0 0 30 2 */2"') WHERE name = 'old-rule'`,
    ));
    await ctx.ledger.query(fixtureSql("UPDATE tasks SET state = 'scheduled' WHERE name = 'hourly'"));
    clock.set('2026-03-12T13:00:00.010Z');
    await settle();
    const hourly = await state('hourly');
    assert.equal(hourly.state, 'ready', 'the other task fired');
    const parked = await getTask(ctx.ledger, 'old-rule');
    assert.equal(parked?.state, 'scheduled');
    assert.equal(parked?.next_run_at, null, 'no longer due: the tick does not fail on it again');
    assert.match(parked?.reason ?? '', /^cron: the schedule cannot be read \(.*"30".*\); cancel the task and submit it again$/);
  });
});
