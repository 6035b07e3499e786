import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseTaskSpec, type TaskSpec } from '@tangerine/contracts';
import {
  applyFires, blockDependents, getTask, markStarted, sweepWaiting, migrate, openLedger, placeTasks, readDueTasks, readReadyTasks, recordExits,
  releaseDependents, submitTasks, unreferencedFiles,
  type Fire, type Ledger,
} from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { createDatabase, fixtureSql } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const spec = (name: string, extra: Record<string, unknown> = {}): TaskSpec =>
  parseTaskSpec({ name, executor: 'process', command: ['true'], ...extra });

describe('ledger against a real PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  const extra: Ledger[] = [];

  before(async () => {
    db = await createDatabase('ledger');
    // Several processes starting at once all migrate: the advisory lock lets one apply each migration.
    const starters = Array.from({ length: 4 }, () => openLedger({ databaseUrl: db.url, log }));
    extra.push(...starters);
    const applied = await Promise.all(starters.map((l) => migrate(l, log)));
    assert.equal(applied.filter((a) => a.length > 0).length, 1, 'exactly one process applied the migrations');
    ledger = openLedger({ databaseUrl: db.url, log });
    // Placement puts work only on hosts the ledger has up.
    await ledger.query(
      `INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen)
       SELECT id, '{}', 4, '{process}', 2, 1024, now() FROM unnest($1::text[]) AS id`,
      [['h1', 'h2', ...Array.from({ length: 8 }, (_, i) => `host-${i}`)]],
    );
  });
  after(async () => {
    for (const l of [ledger, ...extra]) await l.close();
    await db.drop();
  });

  it('records each migration once, and refuses a database newer than the binary', async () => {
    const rows = await ledger.query<{ version: number }>('SELECT version FROM tangerine_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => r.version), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    // 015: one open instance per task (the per-task instances' compare-and-set).
    const [instances] = await ledger.query<{ def: string }>("SELECT pg_get_indexdef('task_instances_open'::regclass) AS def");
    assert.match(instances?.def ?? '', /UNIQUE INDEX .*\(task\) WHERE \(ended_at IS NULL\)/);
    // 014: the autoscaler keeps one open drain per host.
    const [drains] = await ledger.query<{ def: string }>("SELECT pg_get_indexdef('scaling_drains_open'::regclass) AS def");
    assert.match(drains?.def ?? '', /UNIQUE INDEX .*\(host\) WHERE \(state = 'open'::text\)/);
    // 012: the status page's reads, the runs ended lately and the dependents of a task whatever their state.
    const [finished] = await ledger.query<{ def: string }>("SELECT pg_get_indexdef('runs_finished'::regclass) AS def");
    assert.match(finished?.def ?? '', /\(finished_at\) WHERE \(finished_at IS NOT NULL\)/);
    const [dependents] = await ledger.query<{ def: string }>("SELECT pg_get_indexdef('task_dependencies_dependency'::regclass) AS def");
    assert.match(dependents?.def ?? '', /\(dependency\)$/);
    // 013: the notifier reads skipped fire times through a partial index of them alone.
    const [skipped] = await ledger.query<{ def: string }>("SELECT pg_get_indexdef('fires_skipped_deadline'::regclass) AS def");
    assert.match(skipped?.def ?? '', /\(recorded_at\) WHERE \(outcome = 'skipped_deadline'::text\)/);
    // 011: retention finds which digests a task names through a partial GIN index of the specs with files.
    const [files] = await ledger.query<{ def: string }>("SELECT pg_get_indexdef('tasks_files'::regclass) AS def");
    assert.match(files?.def ?? '', /USING gin \(\(\(spec -> 'files'::text\)\) jsonb_path_ops\) WHERE \(spec \? 'files'::text\)/);
    // 005: statistics follow a burst of tasks after a fixed number of changed rows, not 10% of the table.
    const [options] = await ledger.query<{ reloptions: string[] }>("SELECT reloptions FROM pg_class WHERE relname = 'tasks'");
    assert.ok(options?.reloptions.includes('autovacuum_analyze_threshold=1000'), String(options?.reloptions));
    // 006: the ready queue is read in submission order.
    const [index] = await ledger.query<{ def: string }>("SELECT pg_get_indexdef('tasks_ready'::regclass) AS def");
    assert.match(index!.def, /\(submit_seq, name\) WHERE \(state = 'ready'::text\)/);
    await ledger.query("INSERT INTO tangerine_migrations (version, name) VALUES (999, '999_future.sql')");
    await assert.rejects(migrate(ledger, log), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'migration_too_new');
      assert.match(err.message, /schema version 999/);
      return true;
    });
    await ledger.query('DELETE FROM tangerine_migrations WHERE version = 999');
  });

  it('places nothing on a host the ledger does not have up: draining, down or unknown', async () => {
    await ledger.query(
      `INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen, state)
       VALUES ('drained', '{}', 4, '{process}', 2, 1024, now(), 'draining'), ('gone', '{}', 4, '{process}', 2, 1024, now(), 'down')`,
    );
    await submitTasks(ledger, ['to-drained', 'to-gone', 'to-nowhere', 'to-h1'].map((name, i) => ({ seq: 100 + i, spec: spec(name) })), new Date());
    const placed = await placeTasks(ledger, [
      { name: 'to-drained', attempt: 0, host: 'drained' }, { name: 'to-gone', attempt: 0, host: 'gone' },
      { name: 'to-nowhere', attempt: 0, host: 'no-such-host' }, { name: 'to-h1', attempt: 0, host: 'h1' },
    ]);
    assert.deepEqual(placed.map((p) => [p.event.name, p.event.host]), [['to-h1', 'h1']]);
    const states = await ledger.query<{ name: string; state: string }>(
      "SELECT name, state FROM tasks WHERE name IN ('to-drained', 'to-gone', 'to-nowhere') ORDER BY name",
    );
    assert.deepEqual(states.map((r) => r.state), ['ready', 'ready', 'ready']);
  });

  it('lets one of many connections racing to place a task win the compare-and-set', async () => {
    await submitTasks(ledger, [{ seq: 1, spec: spec('race') }], new Date());
    const racers = Array.from({ length: 8 }, () => openLedger({ databaseUrl: db.url, log, max: 1 }));
    extra.push(...racers);
    const results = await Promise.all(racers.map((l, i) => placeTasks(l, [{ name: 'race', attempt: 0, host: `host-${i}` }])));
    const winners = results.filter((r) => r.length === 1);
    assert.equal(winners.length, 1);
    const [task] = await ledger.query<{ state: string; host: string; attempt: number }>("SELECT state, host, attempt FROM tasks WHERE name = 'race'");
    assert.deepEqual(task, { state: 'placed', host: winners[0]![0]!.event.host, attempt: 1 });
    const runs = await ledger.query("SELECT * FROM runs WHERE task = 'race'");
    assert.equal(runs.length, 1);
  });

  it('handles a redelivered submission once: the second delivery only announces the state again', async () => {
    const batch = [{ seq: 10, spec: spec('once') }];
    const first = await submitTasks(ledger, batch, new Date());
    const second = await submitTasks(ledger, batch, new Date());
    assert.equal(first.events.length, 1);
    assert.equal(second.rejected.length, 0, 'a redelivery is not a duplicate');
    assert.deepEqual(second.events, first.events, 'the same event, with the same dedupe id');
    const [row] = await ledger.query<{ version: string }>("SELECT version FROM tasks WHERE name = 'once'");
    assert.equal(Number(row!.version), 1);
  });

  it('handles redelivered run reports once', async () => {
    await submitTasks(ledger, [{ seq: 20, spec: spec('reported', { recoverable_exitcodes: [3] }) }], new Date());
    await placeTasks(ledger, [{ name: 'reported', attempt: 0, host: 'h1' }]);
    const started = { name: 'reported', attempt: 1, host: 'h1', run_id: 'pid:1', at: new Date().toISOString() };
    const before = ledger.statements();
    const forged = await markStarted(ledger, [{ ...started, host: 'h2' }]);
    assert.deepEqual(forged, { events: [], refused: [{ name: 'reported', attempt: 1, host: 'h1', reported: 'h2' }] }, 'another host\'s start');
    assert.equal(ledger.statements() - before, 1, 'refused in the statement that applies the reports');
    assert.equal((await markStarted(ledger, [started])).events.length, 1);
    assert.equal((await markStarted(ledger, [started])).events.length, 0);
    const exited = {
      name: 'reported', attempt: 1, host: 'h1', exit_code: 3, reason: null, output: 'x',
      started_at: started.at, finished_at: new Date().toISOString(),
    };
    const forgedExit = await recordExits(ledger, [{ ...exited, host: 'h2', exit_code: 0 }, { ...exited, host: 'h2' }]);
    assert.deepEqual(forgedExit.events, [], 'another host\'s exits change nothing');
    assert.deepEqual(forgedExit.refused.map((r) => [r.host, r.reported]), [['h1', 'h2'], ['h1', 'h2']]);
    const [run] = await ledger.query<{ exit_code: number | null }>("SELECT exit_code FROM runs WHERE task = 'reported' AND attempt = 1");
    assert.equal(run!.exit_code, null);
    const { events } = await recordExits(ledger, [exited]);
    assert.deepEqual(events.map((e) => [e.state, e.failures, e.exit_code]), [['ready', 1, 3]]);
    assert.equal((await recordExits(ledger, [exited])).events.length, 0);
    const [row] = await ledger.query<{ state: string; failures: number }>("SELECT state, failures FROM tasks WHERE name = 'reported'");
    assert.deepEqual(row, { state: 'ready', failures: 1 });
  });

  it('holds a retry back for its backoff: ready, with retry_at, and not read for placement before it', async () => {
    await submitTasks(ledger, [
      { seq: 40, spec: spec('backs-off', { recoverable_exitcodes: [3], retry_delay: 30 }) },
      { seq: 41, spec: spec('retries-at-once', { recoverable_exitcodes: [3], retry_delay: 0 }) },
    ], new Date());
    await placeTasks(ledger, ['backs-off', 'retries-at-once'].map((name) => ({ name, attempt: 0, host: 'h1' })));
    const at = new Date().toISOString();
    const exit = (name: string) => ({ name, attempt: 1, host: 'h1', exit_code: 3, reason: null, output: '', started_at: at, finished_at: at, run_id: 'pid:4' });
    const { events } = await recordExits(ledger, [exit('backs-off'), exit('retries-at-once')]);
    // (A report that stands for the start too gives a running event first.)
    assert.deepEqual(events.filter((e) => e.state === 'ready').map((e) => [e.name, e.state, e.reason]).sort(), [
      ['backs-off', 'ready', 'exit code 3 is recoverable; retry 2 of 3 in 30 s'],
      ['retries-at-once', 'ready', 'exit code 3 is recoverable; retry 2 of 3'],
    ]);
    const ready = (await readReadyTasks(ledger, 1000)).map((t) => t.name);
    assert.ok(ready.includes('retries-at-once'));
    assert.ok(!ready.includes('backs-off'), 'not placed before its backoff is over');
    const view = await getTask(ledger, 'backs-off');
    const wait = Date.parse(view!.retry_at!) - Date.now();
    assert.ok(wait > 25_000 && wait <= 30_000, `retry_at is 30 s after the exit (${wait} ms from now)`);
    assert.equal((await getTask(ledger, 'retries-at-once'))!.retry_at, null);
    // Once its time has come, it is read for placement like any ready task, and its placement clears the time.
    await ledger.query("UPDATE tasks SET retry_at = now() - interval '1 second' WHERE name = 'backs-off'");
    assert.ok((await readReadyTasks(ledger, 1000)).some((t) => t.name === 'backs-off'));
    await placeTasks(ledger, [{ name: 'backs-off', attempt: 1, host: 'h1' }]);
    const [row] = await ledger.query<{ retry_at: Date | null }>("SELECT retry_at FROM tasks WHERE name = 'backs-off'");
    assert.equal(row!.retry_at, null);
  });

  it('records a batch of exits 0 in one statement: success, a cron task on to scheduled, the failures kept', async () => {
    await submitTasks(ledger, [
      { seq: 30, spec: spec('quick-a') }, { seq: 31, spec: spec('quick-cron', { cron: '@hourly' }) },
      { seq: 32, spec: spec('quick-retried', { recoverable_exitcodes: [3] }) },
    ], new Date());
    await placeTasks(ledger, ['quick-a', 'quick-cron', 'quick-retried'].map((name) => ({ name, attempt: 0, host: 'h1' })));
    const at = new Date().toISOString();
    const exit = (name: string, attempt: number, code: number) =>
      ({ name, attempt, host: 'h1', exit_code: code, reason: null, output: '', started_at: at, finished_at: at, run_id: 'pid:9' });
    await recordExits(ledger, [exit('quick-retried', 1, 3)]);
    await placeTasks(ledger, [{ name: 'quick-retried', attempt: 1, host: 'h1' }]);
    const before = ledger.statements();
    const { events } = await recordExits(ledger, [exit('quick-a', 1, 0), exit('quick-cron', 1, 0), exit('quick-retried', 2, 0)]);
    assert.equal(ledger.statements() - before, 1, 'no read before the write');
    // Sorted by task (a stable sort): each task's events stay in their order.
    const byTask = [...events].sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(byTask.map((e) => [e.name, e.from, e.state, e.failures]), [
      ['quick-a', 'placed', 'running', 0], ['quick-a', 'running', 'success', 0],
      ['quick-cron', 'placed', 'running', 0], ['quick-cron', 'running', 'success', 0], ['quick-cron', 'success', 'scheduled', 0],
      ['quick-retried', 'placed', 'running', 1], ['quick-retried', 'running', 'success', 1],
    ]);
    const versions = events.filter((e) => e.name === 'quick-cron').map((e) => e.version);
    assert.deepEqual(versions, [versions[0]!, versions[0]! + 1, versions[0]! + 2], 'one version per state');
  });

  it('releases the dependents of the successes it records in the same statement, once; a failure releases nothing', async () => {
    await submitTasks(ledger, [
      { seq: 40, spec: spec('step-1') }, { seq: 41, spec: spec('step-2', { dependencies: ['step-1'] }) },
      { seq: 42, spec: spec('pair-a') }, { seq: 43, spec: spec('pair-b') },
      { seq: 44, spec: spec('pair-join', { dependencies: ['pair-a', 'pair-b'] }) },
      { seq: 45, spec: spec('breaks') }, { seq: 46, spec: spec('after-break', { dependencies: ['breaks'] }) },
    ], new Date());
    await placeTasks(ledger, ['step-1', 'pair-a', 'pair-b', 'breaks'].map((name) => ({ name, attempt: 0, host: 'h1' })));
    const at = new Date().toISOString();
    const exit = (name: string, code: number) =>
      ({ name, attempt: 1, host: 'h1', exit_code: code, reason: null, output: '', started_at: at, finished_at: at, run_id: 'pid:9' });
    const before = ledger.statements();
    const { events } = await recordExits(ledger, [exit('step-1', 0), exit('pair-a', 0), exit('pair-b', 0)]);
    assert.equal(ledger.statements() - before, 1, 'the success and the release in one statement');
    const released = events.filter((e) => e.state === 'ready');
    assert.deepEqual(released.map((e) => [e.name, e.from, e.version]).sort(), [['pair-join', 'waiting', 2], ['step-2', 'waiting', 2]],
      'a fan-in whose parents end in one batch is released too');
    assert.ok(events.indexOf(released[0]!) > events.findIndex((e) => e.state === 'success'), 'the exits\' events come first');
    assert.deepEqual((await recordExits(ledger, [exit('step-1', 0)])).events, [], 'a redelivered report changes nothing');
    await recordExits(ledger, [exit('breaks', 1)]);
    const [row] = await ledger.query<{ state: string }>("SELECT state FROM tasks WHERE name = 'after-break'");
    assert.equal(row!.state, 'waiting', 'a failure is the resolver\'s to block');
  });

  it('ignores a report of an older attempt', async () => {
    await placeTasks(ledger, [{ name: 'reported', attempt: 1, host: 'h2' }]);
    const stale = {
      name: 'reported', attempt: 1, host: 'h1', exit_code: 0, reason: null, output: '',
      started_at: null, finished_at: new Date().toISOString(),
    };
    assert.equal((await recordExits(ledger, [stale])).events.length, 0);
    const [row] = await ledger.query<{ state: string; attempt: number }>("SELECT state, attempt FROM tasks WHERE name = 'reported'");
    assert.deepEqual(row, { state: 'placed', attempt: 2 });
  });

  it('releases a dependent once however often the success arrives, and a fan-in in one statement', async () => {
    const parents = Array.from({ length: 50 }, (_, i) => `fan-${i}`);
    await submitTasks(ledger, [
      ...parents.map((name, i) => ({ seq: 100 + i, spec: spec(name) })),
      { seq: 200, spec: spec('fan-in', { dependencies: parents }) },
    ], new Date());
    await ledger.query(fixtureSql(`UPDATE tasks SET state = 'success', succeeded_at = now() WHERE name IN (${parents.slice(0, 49).map((p) => `'${p}'`).join(', ')})`));
    assert.deepEqual(await releaseDependents(ledger, parents.slice(0, 49)), []);
    assert.deepEqual(await releaseDependents(ledger, parents.slice(0, 49)), [], 'redelivered: nothing changes');
    const [mid] = await ledger.query<{ state: string; version: string; unsatisfied: string }>(
      `SELECT state, version, (SELECT count(*) FROM task_dependencies WHERE task = 'fan-in' AND NOT satisfied) AS unsatisfied
         FROM tasks WHERE name = 'fan-in'`);
    assert.deepEqual({ ...mid, version: Number(mid!.version), unsatisfied: Number(mid!.unsatisfied) }, { state: 'waiting', version: 1, unsatisfied: 1 },
      'counting down never touched the fan-in\'s row');
    await ledger.query(fixtureSql("UPDATE tasks SET state = 'success', succeeded_at = now() WHERE name = 'fan-49'"));
    const before = ledger.statements();
    const released = await releaseDependents(ledger, ['fan-49', 'fan-49']);
    assert.equal(ledger.statements() - before, 1);
    assert.deepEqual(released.map((e) => [e.name, e.state, e.version]), [['fan-in', 'ready', 2]], 'released in one step');
    assert.deepEqual(await releaseDependents(ledger, ['fan-49']), []);
  });

  it('releases a dependent whose last edges two resolvers flipped at the same moment, in the sweep', async () => {
    await submitTasks(ledger, [
      { seq: 400, spec: spec('left') }, { seq: 401, spec: spec('right') },
      { seq: 402, spec: spec('both', { dependencies: ['left', 'right'] }) },
    ], new Date());
    await ledger.query(fixtureSql("UPDATE tasks SET state = 'success', succeeded_at = now() WHERE name IN ('left', 'right')"));
    // What the race leaves: every edge satisfied, the task still waiting.
    await ledger.query("UPDATE task_dependencies SET satisfied = true WHERE task = 'both'");
    const events = await sweepWaiting(ledger);
    assert.deepEqual(events.filter((e) => e.name === 'both').map((e) => [e.from, e.state]), [['waiting', 'ready']]);
  });

  it('a cron task goes on to scheduled after its run, and its success satisfies a dependent submitted later', async () => {
    const now = new Date();
    await submitTasks(ledger, [{ seq: 300, spec: spec('nightly', { cron: '0 3 * * *' }) }], now);
    await placeTasks(ledger, [{ name: 'nightly', attempt: 0, host: 'h1' }]);
    const at = new Date().toISOString();
    const { events } = await recordExits(ledger, [{
      name: 'nightly', attempt: 1, host: 'h1', exit_code: 0, reason: null, output: '', started_at: at, finished_at: at,
    }]);
    assert.deepEqual(events.map((e) => [e.from, e.state, e.version]), [['placed', 'running', 3], ['running', 'success', 4], ['success', 'scheduled', 5]]);
    const [row] = await ledger.query<{ state: string; next_run_at: Date; succeeded: boolean }>(
      "SELECT state, next_run_at, succeeded_at IS NOT NULL AS succeeded FROM tasks WHERE name = 'nightly'");
    assert.equal(row!.state, 'scheduled');
    assert.equal(row!.succeeded, true);
    assert.equal(row!.next_run_at.getUTCHours(), 3);
    const later = await submitTasks(ledger, [{ seq: 301, spec: spec('after-nightly', { dependencies: ['nightly'] }) }], new Date());
    assert.deepEqual(later.events.map((e) => e.state), ['ready']);
  });

  it('a failed run of a cron task leaves it scheduled with the failure in its reason, blocking no dependent', async () => {
    await submitTasks(ledger, [
      { seq: 310, spec: spec('hourly-fails', { cron: '@hourly' }) },
      { seq: 311, spec: spec('after-hourly', { dependencies: ['hourly-fails'] }) },
    ], new Date());
    await placeTasks(ledger, [{ name: 'hourly-fails', attempt: 0, host: 'h1' }]);
    const at = new Date().toISOString();
    const { events } = await recordExits(ledger, [{
      name: 'hourly-fails', attempt: 1, host: 'h1', exit_code: 2, reason: null, output: '', started_at: at, finished_at: at,
    }]);
    assert.deepEqual(events.map((e) => e.state), ['running', 'failed', 'scheduled']);
    assert.match(events[2]!.reason ?? '', /^last run failed: /);
    const rows = await ledger.query<{ name: string; state: string }>(
      "SELECT name, state FROM tasks WHERE name IN ('hourly-fails', 'after-hourly') ORDER BY name");
    assert.deepEqual(rows, [{ name: 'after-hourly', state: 'waiting' }, { name: 'hourly-fails', state: 'scheduled' }]);
  });

  it('lets one of many cron replicas applying the same fire win: the fire time fires once', async () => {
    const submitted = new Date('2026-11-22T10:00:00.500Z');
    await submitTasks(ledger, [{ seq: 320, spec: spec('every-second', { schedule_at: '2030-01-01T00:00:00Z', cron: '* * * * * *' }) }], submitted);
    await ledger.query("UPDATE tasks SET next_run_at = '2026-11-22T10:00:01Z' WHERE name = 'every-second'");
    const now = new Date('2026-11-22T10:00:01.100Z');
    const [due] = (await readDueTasks(ledger, now, 1000)).filter((d) => d.name === 'every-second');
    assert.ok(due);
    const fire: Fire = {
      name: due.name, version: due.version, from: due.state, due: due.next_run_at, fire_time: due.next_run_at, outcome: 'fired',
      missed_from: null, next_run_at: new Date('2026-11-22T10:00:02Z'), child: null, attempt: due.attempt, host: due.host,
    };
    const racers = Array.from({ length: 6 }, () => openLedger({ databaseUrl: db.url, log, max: 1 }));
    extra.push(...racers);
    const results = await Promise.all(racers.map((l) => applyFires(l, [fire])));
    assert.equal(results.filter((r) => r.applied.length === 1).length, 1);
    assert.deepEqual(results.flatMap((r) => r.events).map((e) => [e.from, e.state]), [['scheduled', 'ready']]);
    const fires = await ledger.query("SELECT outcome FROM fires WHERE task = 'every-second'");
    assert.deepEqual(fires, [{ outcome: 'fired' }]);
    const [row] = await ledger.query<{ state: string; next_run_at: Date }>("SELECT state, next_run_at FROM tasks WHERE name = 'every-second'");
    assert.deepEqual(row, { state: 'ready', next_run_at: new Date('2026-11-22T10:00:02Z') });
    assert.deepEqual(await applyFires(ledger, [fire]), { events: [], applied: [] }, 'a replay changes nothing');
  });

  it('blocks waiting and scheduled dependents of a task that failed, once, and clears the start time', async () => {
    await submitTasks(ledger, [
      { seq: 330, spec: spec('will-fail') },
      { seq: 331, spec: spec('waits-on-it', { dependencies: ['will-fail'] }) },
      { seq: 332, spec: spec('starts-later', { dependencies: ['will-fail'], schedule_at: '2030-01-01T00:00:00Z' }) },
    ], new Date());
    await ledger.query(fixtureSql("UPDATE tasks SET state = 'failed' WHERE name = 'will-fail'"));
    const events = await blockDependents(ledger, ['will-fail', 'will-fail']);
    assert.deepEqual(events.map((e) => [e.name, e.from, e.state, e.reason]).sort(), [
      ['starts-later', 'scheduled', 'blocked', 'dependency will-fail is failed'],
      ['waits-on-it', 'waiting', 'blocked', 'dependency will-fail is failed'],
    ]);
    assert.deepEqual(await blockDependents(ledger, ['will-fail']), [], 'redelivered: nothing changes');
    const [row] = await ledger.query<{ next_run_at: Date | null }>("SELECT next_run_at FROM tasks WHERE name = 'starts-later'");
    assert.equal(row!.next_run_at, null);
  });

  it('names the files no kept task names: live and lately finished tasks keep theirs, long finished ones and none do not', async () => {
    const sha = (c: string): string => c.repeat(64);
    const file = (c: string) => ({ name: `${c}.txt`, sha256: sha(c), size: 1 });
    await submitTasks(ledger, [
      { seq: 900, spec: spec('files-live', { files: [file('a'), file('b')] }) },
      { seq: 901, spec: spec('files-recent', { files: [file('c')] }) },
      { seq: 902, spec: spec('files-old', { files: [file('d'), file('b')] }) },
    ], new Date());
    await ledger.query("UPDATE tasks SET state = 'cancelled', updated_at = now() WHERE name = 'files-recent'");
    await ledger.query("UPDATE tasks SET state = 'cancelled', updated_at = now() - interval '2 days' WHERE name = 'files-old'");
    const cutoff = new Date(Date.now() - 86400_000);
    // b: named by a live task and a long finished one, kept; d: only by the long finished one; e: by none.
    assert.deepEqual((await unreferencedFiles(ledger, ['a', 'b', 'c', 'd', 'e'].map(sha), cutoff)).sort(), [sha('d'), sha('e')]);
    assert.deepEqual(await unreferencedFiles(ledger, [], cutoff), []);
  });
});
