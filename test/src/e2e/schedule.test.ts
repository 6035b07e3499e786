import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FireView, RunView, TaskView } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : Number.NaN);
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

/** Runs of a task in attempt order, each with its start in ms. */
function starts(t: TaskView): { run: RunView; at: number }[] {
  return (t.runs ?? []).filter((r) => r.started_at !== null).map((run) => ({ run, at: ms(run.started_at) }));
}

/** Three fired fire times in a row, two seconds apart, with the run each started; or null. */
function threeInARow(t: TaskView): { fires: FireView[]; runs: { run: RunView; at: number }[] } | null {
  const all = fired(t);
  const runs = starts(t);
  for (let i = 0; i + 2 < all.length; i++) {
    const fires = all.slice(i, i + 3);
    if (ms(fires[1]!.fire_time) - ms(fires[0]!.fire_time) !== 2000 || ms(fires[2]!.fire_time) - ms(fires[1]!.fire_time) !== 2000) continue;
    // The run of a fire time is the first one started at or after it.
    const matched = fires.map((f) => runs.find(({ at }) => at >= ms(f.fire_time)));
    if (matched.every((r) => r !== undefined)) return { fires, runs: matched as { run: RunView; at: number }[] };
  }
  return null;
}

/** Fired fire times, oldest first. */
function fired(t: TaskView): FireView[] {
  return (t.fires ?? []).filter((f) => f.outcome === 'fired').sort((a, b) => ms(a.fire_time) - ms(b.fire_time));
}

/**
 * Cron and schedule_at end to end: every service as its own process, real containers. The cron service ticks
 * every 100 ms here so that "within a second" measures Tangerine, not the tick.
 */
describe('time: cron and schedule_at end to end', () => {
  const cluster = new Cluster('schedule', { CRON_TICK: '0.1' });

  before(async () => {
    await cluster.start({ agents: [{ host: 'sched-a', slots: 4 }] });
  });
  after(async () => {
    await cluster.stop();
  });

  it('rejects a bad cron expression at intake, naming the field and the part', async () => {
    cluster.client.submit({ name: 'bad-cron', image: TEST_IMAGE, cron: '*/15 25 * * *' });
    const r = await cluster.client.waitForRejection((x) => x.name === 'bad-cron');
    assert.equal(r.code, 'invalid_spec');
    assert.equal(r.field, 'cron');
    assert.match(r.reason, /hour/);
    assert.match(r.reason, /25/);
  });

  it('schedule_at three seconds ahead: scheduled until then, started within a second of it', async (ctx) => {
    const c = cluster.client;
    const at = new Date(Date.now() + 3000);
    c.submit({ name: 'at-3s', image: TEST_IMAGE, command: ['true'], schedule_at: at.toISOString() });
    const scheduled = await c.waitForState('at-3s', 'scheduled', 5000);
    assert.equal(scheduled.next_run_at, at.toISOString());
    assert.equal(scheduled.runs?.length, 0);
    const done = await c.waitForState('at-3s', 'success', 15000);
    const [run] = starts(done);
    assert.ok(run);
    const late = run.at - at.getTime();
    ctx.diagnostic(`started ${late} ms after schedule_at`);
    assert.ok(late >= 0 && late <= 1000, `started ${late} ms after its time`);
    assert.equal(done.next_run_at, null);
    assert.deepEqual(done.fires?.map((f) => [f.outcome, f.fire_time]), [['fired', at.toISOString()]]);
  });

  it('*/2 * * * * * runs at three consecutive fire times, two seconds apart', async (ctx) => {
    const c = cluster.client;
    c.submit({ name: 'every-2s', image: TEST_IMAGE, command: ['true'], cron: '*/2 * * * * *' });
    const t = await c.waitFor('every-2s', (x) => threeInARow(x) !== null && x.state === 'scheduled', 30000);
    c.cancel('every-2s');
    const { fires, runs } = threeInARow(t)!;
    for (const f of fires) assert.equal(new Date(f.fire_time).getUTCSeconds() % 2, 0, `fire time ${f.fire_time} is on an even second`);
    assert.equal(ms(fires[1]!.fire_time) - ms(fires[0]!.fire_time), 2000);
    assert.equal(ms(fires[2]!.fire_time) - ms(fires[1]!.fire_time), 2000);
    // The first run is the submission's (Tangerine's meaning); then one run per fire time, each soon after it.
    ctx.diagnostic(`runs started ${runs.map(({ at }, i) => at - ms(fires[i]!.fire_time)).join(', ')} ms after their fire times`);
    runs.forEach(({ at }, i) => {
      const late = at - ms(fires[i]!.fire_time);
      assert.ok(late >= 0 && late < 1500, `run ${i + 2} started ${late} ms after its fire time`);
    });
    for (const i of [1, 2]) {
      const gap = runs[i]!.at - runs[i - 1]!.at;
      assert.ok(Math.abs(gap - 2000) <= 1000, `runs ${gap} ms apart`);
    }
    assert.ok(runs.every(({ run }) => run.exit_code === 0));
    await c.waitForState('every-2s', 'cancelled');
  });

  it('concurrency forbid: a fire time during a long run is skipped and recorded; runs never overlap', async () => {
    const c = cluster.client;
    c.submit({ name: 'long-forbid', image: TEST_IMAGE, command: ['sleep', '3'], cron: '* * * * * *' });
    const t = await c.waitFor('long-forbid', (x) => (x.fires ?? []).some((f) => f.outcome === 'skipped_busy') && fired(x).length >= 1, 20000);
    c.cancel('long-forbid');
    const skipped = (t.fires ?? []).filter((f) => f.outcome === 'skipped_busy');
    assert.ok(skipped.length >= 1);
    const runs = (t.runs ?? []).filter((r) => r.finished_at !== null);
    for (let i = 1; i < runs.length; i++) {
      assert.ok(ms(runs[i]!.started_at) >= ms(runs[i - 1]!.finished_at), 'a run started before the one before it ended');
    }
    // Each skipped fire time came while the first run was going.
    const first = t.runs![0]!;
    for (const f of skipped.filter((s) => ms(s.fire_time) < ms(first.finished_at))) {
      assert.ok(ms(f.fire_time) >= ms(first.started_at) - 1000);
    }
    await c.waitForState('long-forbid', 'cancelled');
  });

  it('concurrency allow: a fire time during a run starts a separate task beside it', async () => {
    const c = cluster.client;
    c.submit({ name: 'long-allow', image: TEST_IMAGE, command: ['sleep', '3'], cron: '*/2 * * * * *', concurrency: 'allow' });
    const t = await c.waitFor('long-allow', (x) => (x.fires ?? []).some((f) => f.child !== null), 20000);
    c.cancel('long-allow');
    const fire = (t.fires ?? []).find((f) => f.child !== null)!;
    assert.equal(fire.outcome, 'fired');
    assert.match(fire.child!, /^long-allow-\d{8}T\d{6}$/);
    const child = await c.waitForState(fire.child!, 'success', 15000);
    assert.equal(child.spec.cron, null);
    assert.deepEqual(child.spec.command, ['sleep', '3']);
    const parentRun = t.runs![0]!;
    const childStart = ms(child.runs![0]!.started_at);
    assert.ok(childStart < ms(parentRun.finished_at ?? new Date().toISOString()), 'the child ran beside its parent');
  });

  it('two cron services: both fire, one goes on alone when the other is killed, and no fire time runs twice', async () => {
    const c = cluster.client;
    const firesBy = (key: string) => cluster.services.get(key)!.lines.filter((l) => l['task'] === 'twin' && l['msg'] === 'fire time reached');
    cluster.startService('cron', 'cron-2');
    await cluster.services.get('cron-2')!.waitForLine((l) => l['part'] === 'cron' && l['msg'] === 'started');
    c.submit({ name: 'twin', image: TEST_IMAGE, command: ['true'], cron: '* * * * * *' });
    await c.waitFor('twin', (x) => fired(x).length >= 3 && x.state === 'scheduled', 30000);
    // Which replica wins a fire time is a race: kill the one that fired most, so that the other must take over.
    const [busy, other] = firesBy('cron').length >= firesBy('cron-2').length ? ['cron', 'cron-2'] : ['cron-2', 'cron'];
    await cluster.services.get(busy)!.kill();
    const firedBefore = firesBy(other).length;
    const t = await c.waitFor('twin', () => firesBy(other).length >= firedBefore + 3, 30000);
    c.cancel('twin');
    const done = await c.waitForState('twin', 'cancelled');
    const times = fired(done).map((f) => f.fire_time);
    assert.ok(times.length >= 6, `${times.length} fire times fired`);
    assert.equal(new Set(times).size, times.length);
    // One run for the submission, then one per fired fire time: nothing ran twice. Events are published after the
    // ledger's commit, so the last ones may still be on their way: wait for the count, then check none came twice.
    const readyOf = () => c.events.filter((e) => e.name === 'twin' && e.state === 'ready');
    await waitUntil('a ready event per run', () => readyOf().length >= 1 + fired(done).length);
    await c.waitForEvent((e) => e.name === 'twin' && e.state === 'cancelled');
    const readyEvents = readyOf();
    assert.equal(readyEvents.length, 1 + fired(done).length);
    assert.equal(new Set(readyEvents.map((e) => e.version)).size, readyEvents.length);
    assert.equal(done.runs!.length, 1 + fired(done).length);
    assert.ok(t.runs!.length >= 4);
    // Each fire time was applied by exactly one replica, and both took part.
    const actors = [firesBy('cron').length, firesBy('cron-2').length];
    assert.equal(actors[0]! + actors[1]!, fired(done).length, `fires by replica: ${actors.join(', ')}`);
    assert.ok(firesBy(other).length - firedBefore >= 3, `${other} went on alone`);
    assert.ok(firesBy(busy).length >= 1, `${busy} fired before it was killed`);
    // The next test stops the replica called cron: leave one running, under that name.
    if (busy === 'cron') {
      await cluster.services.get('cron-2')!.kill();
      cluster.startService('cron');
    }
    cluster.services.delete('cron-2');
  });

  it('the cron service down for 10 s: exactly one catch-up run on its return', async () => {
    const c = cluster.client;
    c.submit({ name: 'catch-up', image: TEST_IMAGE, command: ['true'], cron: '*/2 * * * * *' });
    await c.waitFor('catch-up', (x) => fired(x).length >= 1 && x.state === 'scheduled', 15000);
    await cluster.services.get('cron')!.kill();
    const downAt = Date.now();
    // The outage itself is what this test is about: 10 s, four or five fire times of */2, has to pass.
    await sleep(10000);
    const during = await c.waitForState('catch-up', 'scheduled');
    cluster.startService('cron');
    const upAt = Date.now();
    const t = await c.waitFor('catch-up', (x) => (x.fires ?? []).some((f) => ms(f.recorded_at) > upAt - 500), 20000);
    c.cancel('catch-up');
    // Nothing fired while it was down.
    assert.ok(!(t.fires ?? []).some((f) => ms(f.recorded_at) > downAt + 500 && ms(f.recorded_at) < upAt - 500));
    assert.equal(starts(during).filter(({ at }) => at > downAt + 1500).length, 0);
    const afterUp = (t.fires ?? []).filter((f) => ms(f.recorded_at) > upAt - 500).sort((a, b) => ms(a.fire_time) - ms(b.fire_time));
    const first = afterUp[0]!;
    assert.equal(first.outcome, 'fired');
    assert.ok(first.missed_from !== null, 'the catch-up names the first missed fire time');
    // It stands for the four or five fire times missed: they never run one by one, and the schedule goes on.
    const missed = (ms(first.fire_time) - ms(first.missed_from)) / 2000 + 1;
    assert.ok(missed >= 4, `covers ${missed} fire times`);
    assert.ok(!(t.fires ?? []).some((f) => ms(f.fire_time) >= ms(first.missed_from) && ms(f.fire_time) < ms(first.fire_time)));
    for (const f of afterUp.slice(1)) {
      assert.equal(f.missed_from, null);
      assert.ok(ms(f.fire_time) > ms(first.fire_time));
    }
    const done = await c.waitForState('catch-up', 'cancelled');
    // One run for the submission, then one per fired fire time.
    assert.equal(done.runs!.length, 1 + fired(done).length);
  });
});
