import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseTaskSpec, type HostAnnounce } from '@tangerine/contracts';
import {
  findStaleRuns, markHostsDown, markPublished, markStarted, migrate, openLedger, placeTasks, readUnpublished, recordHeartbeats,
  removeHosts, requeueFromDownHosts, requeueLostReports, requeueLostRuns, setDraining, submitTasks, viewHosts, type Ledger,
} from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { createDatabase } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const T0 = new Date('2026-11-22T12:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function beat(host: string, seenAt: Date, extra: Partial<HostAnnounce> = {}) {
  return {
    announce: { host, labels: { zone: 'a' }, slots: 2, executors: ['process'], cpu: 2, memory: 1024, running: [], at: seenAt.toISOString(), ...extra },
    seenAt,
  };
}

/** The host-health statements against a real PostgreSQL: each a compare-and-set, each safe to run twice. */
describe('host health in the ledger', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  const extra: Ledger[] = [];
  let seq = 0;

  before(async () => {
    db = await createDatabase('hosts-ledger');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
  });
  after(async () => {
    for (const l of [ledger, ...extra]) await l.close();
    await db.drop();
  });

  /**
   * A task placed (and started, if asked) on a host. Placement takes only a host that is up: one that is down now
   * (or gone) is up for the placement, as it was when a placement raced its going down.
   */
  async function onHost(name: string, host: string, fields: Record<string, unknown> = {}, started?: Date) {
    await submitTasks(ledger, [{ seq: ++seq, spec: parseTaskSpec({ name, executor: 'process', command: ['true'], ...fields }) }], T0);
    const [was] = await ledger.query<{ state: string }>("UPDATE hosts h SET state = 'up' FROM hosts old WHERE h.id = $1 AND old.id = h.id RETURNING old.state", [host]);
    if (!was) await recordHeartbeats(ledger, [beat(host, T0)]);
    const placed = await placeTasks(ledger, [{ name, attempt: 0, host }]);
    if (was) await ledger.query('UPDATE hosts SET state = $2 WHERE id = $1', [host, was.state]);
    else await ledger.query('DELETE FROM hosts WHERE id = $1', [host]);
    assert.equal(placed.length, 1, `${name} placed on ${host}`);
    if (started) await markStarted(ledger, [{ name, attempt: 1, host, run_id: 'pid:1', at: started.toISOString() }]);
  }
  const task = async (name: string) =>
    (await ledger.query<{ state: string; reason: string | null; failures: number }>('SELECT state, reason, failures FROM tasks WHERE name = $1', [name]))[0];

  it('records heartbeats in one statement, newest per host, and says who is new', async () => {
    const before = ledger.statements();
    const results = await recordHeartbeats(ledger, [beat('h1', at(0)), beat('h2', at(0)), beat('h1', at(1))]);
    assert.equal(ledger.statements() - before, 1);
    assert.deepEqual(results.map((r) => [r.id, r.from, r.state, r.rebooted]).sort(), [['h1', null, 'up', false], ['h2', null, 'up', false]]);
    const again = await recordHeartbeats(ledger, [beat('h1', at(0.5))]);
    assert.deepEqual(again.map((r) => [r.from, r.state]), [['up', 'up']]);
    const [h1] = (await viewHosts(ledger)).filter((h) => h.host === 'h1');
    assert.equal(h1!.last_seen, at(1).toISOString(), 'last_seen never goes back');
  });

  it('marks silent hosts down once, however many replicas try', async () => {
    await recordHeartbeats(ledger, [beat('h1', at(10))]);
    const racers = Array.from({ length: 4 }, () => openLedger({ databaseUrl: db.url, log, max: 1 }));
    extra.push(...racers);
    const results = await Promise.all(racers.map((l) => markHostsDown(l, at(5), at(15))));
    assert.deepEqual(results.flat().map((r) => [r.id, r.from]), [['h2', 'up']]);
    assert.deepEqual((await viewHosts(ledger)).map((h) => [h.host, h.state]), [['h1', 'up'], ['h2', 'down']]);
  });

  it('requeues the runs of a down host: restartable → ready, not counted; not restartable → failed; cron → scheduled', async () => {
    await onHost('keeps-going', 'h2', {}, at(1));
    await onHost('only-once', 'h2', { restartable: false });
    await onHost('every-hour', 'h2', { restartable: false, cron: '@hourly' }, at(1));
    await onHost('elsewhere', 'h1', {}, at(1));
    const events = await requeueFromDownHosts(ledger);
    assert.deepEqual(events.map((e) => [e.name, e.from, e.state]).sort(), [
      ['every-hour', 'running', 'scheduled'], ['keeps-going', 'running', 'ready'], ['only-once', 'placed', 'failed'],
    ]);
    assert.deepEqual(await task('keeps-going'), { state: 'ready', reason: 'host_lost: host h2 stopped answering', failures: 0 });
    assert.equal((await task('only-once'))?.state, 'failed');
    assert.equal((await task('elsewhere'))?.state, 'running');
    const runs = await ledger.query<{ task: string; reason: string; ended: boolean }>(
      "SELECT task, reason, finished_at IS NOT NULL AS ended FROM runs WHERE task IN ('keeps-going', 'only-once') ORDER BY task");
    assert.deepEqual(runs, [{ task: 'keeps-going', reason: 'host_lost', ended: true }, { task: 'only-once', reason: 'host_lost', ended: true }]);
    assert.deepEqual(await requeueFromDownHosts(ledger), [], 'a second sweep finds nothing');
  });

  it('a host heard from again is up; a restarted agent loses the running tasks it did not take back', async () => {
    await recordHeartbeats(ledger, [beat('h1', at(20), { boot: at(0).toISOString() })]);
    await onHost('taken-back', 'h1', {}, at(21));
    await onHost('forgotten', 'h1', {}, at(22));
    await onHost('not-started-yet', 'h1');
    const back = await recordHeartbeats(ledger, [
      beat('h1', at(30), { boot: at(25).toISOString(), running: [{ name: 'taken-back', attempt: 1 }] }), beat('h2', at(30)),
    ]);
    assert.deepEqual(back.map((r) => [r.id, r.from, r.state, r.rebooted]).sort(), [['h1', 'up', 'up', true], ['h2', 'down', 'up', false]]);
    const lost = await requeueLostRuns(ledger, 'h1', at(25), [{ name: 'taken-back', attempt: 1 }]);
    // `elsewhere` started at 1 s on h1 and is not in the list either: it is lost too.
    assert.deepEqual(lost.map((e) => [e.name, e.state, e.reason]).sort(), [
      ['elsewhere', 'ready', 'run_lost: the agent on h1 restarted without it'],
      ['forgotten', 'ready', 'run_lost: the agent on h1 restarted without it'],
    ]);
    assert.equal((await task('taken-back'))?.state, 'running');
    assert.equal((await task('not-started-yet'))?.state, 'placed', 'a placement the new agent will still receive is left alone');
  });

  it('a run an agent reports lost (started by the agent before it) is requeued by the same rule, once', async () => {
    await onHost('lost-placed', 'h1');
    await onHost('lost-once', 'h1', { restartable: false }, at(40));
    const forged = await requeueLostReports(ledger, [{ name: 'lost-once', attempt: 1, host: 'h2', reason: 'run_lost: forged' }]);
    assert.deepEqual(forged, { events: [], refused: [{ name: 'lost-once', attempt: 1, host: 'h1', reported: 'h2' }] }, 'another host\'s report');
    assert.equal((await task('lost-once'))?.state, 'running');
    const { events, refused } = await requeueLostReports(ledger, [
      { name: 'lost-placed', attempt: 1, host: 'h1' }, { name: 'lost-once', attempt: 1, host: 'h1', reason: 'run_lost: the agent of h1 stopped' },
      { name: 'taken-back', attempt: 7, host: 'h1' },
    ]);
    assert.deepEqual(refused, []);
    assert.deepEqual(events.map((e) => [e.name, e.from, e.state, e.reason]).sort(), [
      ['lost-once', 'running', 'failed', 'run_lost: the agent of h1 stopped'],
      ['lost-placed', 'placed', 'ready', 'run_lost: the agent on h1 restarted without it'],
    ]);
    assert.deepEqual(await task('lost-placed'), { state: 'ready', reason: 'run_lost: the agent on h1 restarted without it', failures: 0 });
    assert.equal((await task('taken-back'))?.state, 'running', 'another attempt than the current one changes nothing');
    assert.deepEqual((await requeueLostReports(ledger, [{ name: 'lost-placed', attempt: 1, host: 'h1' }])).events, [], 'redelivered: nothing changes');
  });

  it('fencing: finds the runs a host holds that the ledger moved on from', async () => {
    const stale = await findStaleRuns(ledger, [
      { host: 'h1', name: 'taken-back', attempt: 1 }, // current: not stale
      { host: 'h2', name: 'keeps-going', attempt: 1 }, // requeued: ready
      { host: 'h1', name: 'taken-back', attempt: 0 }, // an older attempt
      { host: 'h2', name: 'taken-back', attempt: 1 }, // another host
      { host: 'h1', name: 'never-was', attempt: 1 },
    ]);
    assert.deepEqual(stale.map((s) => [s.host, s.name, s.attempt, s.reason]).sort(), [
      ['h1', 'never-was', 1, 'the task no longer exists'],
      ['h1', 'taken-back', 0, 'the task is running with attempt 1 on h1'],
      ['h2', 'keeps-going', 1, 'the task is ready with attempt 1 on h2'],
      ['h2', 'taken-back', 1, 'the task is running with attempt 1 on h1'],
    ]);
  });

  it('drains and undrains a host; a down host stays down; an unknown one is null', async () => {
    assert.deepEqual(await setDraining(ledger, 'h2', true), { from: 'up', state: 'draining' });
    assert.deepEqual(await setDraining(ledger, 'h2', true), { from: 'draining', state: 'draining' });
    await recordHeartbeats(ledger, [beat('h2', at(40))]);
    assert.equal((await viewHosts(ledger)).find((h) => h.host === 'h2')?.state, 'draining', 'a heartbeat keeps it draining');
    assert.deepEqual(await setDraining(ledger, 'h2', false), { from: 'draining', state: 'up' });
    assert.equal(await setDraining(ledger, 'nowhere', true), null);
  });

  it('removes hosts down for long enough that hold nothing', async () => {
    await recordHeartbeats(ledger, [beat('h3', at(50))]);
    assert.deepEqual((await markHostsDown(ledger, at(55), at(60))).map((r) => r.id).sort(), ['h1', 'h2', 'h3']);
    await requeueFromDownHosts(ledger);
    assert.deepEqual(await removeHosts(ledger, at(59)), []);
    assert.deepEqual((await removeHosts(ledger, at(61))).sort(), ['h1', 'h2', 'h3']);
  });

  it('knows which changes never reached the stream', async () => {
    await ledger.query('UPDATE tasks SET published_version = version');
    await onHost('unannounced', 'h9');
    const now = new Date(Date.now() + 10_000);
    const missing = await readUnpublished(ledger, now, 5000);
    assert.deepEqual(missing.map((e) => [e.name, e.state, e.version]), [['unannounced', 'placed', 2]]);
    await markPublished(ledger, missing);
    assert.deepEqual(await readUnpublished(ledger, now, 5000), []);
    assert.deepEqual(await readUnpublished(ledger, new Date(), 60_000), [], 'a change younger than the wait is not due');
  });

  it('a mark skips a row another transaction holds instead of waiting for it', async () => {
    await onHost('held', 'h9');
    await onHost('free', 'h9');
    const now = new Date(Date.now() + 10_000);
    const missing = await readUnpublished(ledger, now, 5000);
    assert.deepEqual(missing.map((e) => e.name).sort(), ['free', 'held']);
    const other = await ledger.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM tasks WHERE name = 'held' FOR UPDATE`);
      const marked = markPublished(ledger, missing).then(() => 'marked');
      // A deadline, not a sleep: a mark that waited for the lock would wait until the ROLLBACK below.
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise((r) => { timer = setTimeout(() => r('still waiting after 3 s'), 3000); });
      const first = await Promise.race([marked, waited]);
      clearTimeout(timer);
      assert.equal(first, 'marked');
      assert.deepEqual((await readUnpublished(ledger, now, 5000)).map((e) => e.name), ['held']);
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
    await markPublished(ledger, missing);
    assert.deepEqual(await readUnpublished(ledger, now, 5000), []);
  });
});
