import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Streams, parseTaskSpec, type RunExited, type TaskSpec } from '@tangerine/contracts';
import {
  applyFires, getTask, migrate, openLedger, placeTasks, pruneHistory, readDueTasks, recordExits, submitTasks,
  type Ledger, type RetentionPolicy,
} from '@tangerine/ledger';
import { jetstreamManager } from '@nats-io/jetstream';
import { createLogger } from '@tangerine/runtime';
import { Cluster } from '../helpers/cluster.js';
import { SKIP_TRANSITION_CHECK, createDatabase, fixtureSql } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const DAY = 86400_000;
const spec = (name: string, extra: Record<string, unknown> = {}): TaskSpec =>
  parseTaskSpec({ name, executor: 'process', command: ['true'], ...extra });
const policy: RetentionPolicy = { runsKeep: 3, historyMs: DAY, firesKeep: 5 };

/** Runs and fire records left, per task: attempts and fire times (as ISO strings), in order. */
async function history(ledger: Ledger): Promise<{ runs: Record<string, number[]>; fires: Record<string, string[]> }> {
  const runs: Record<string, number[]> = {};
  for (const r of await ledger.query<{ task: string; attempt: number }>('SELECT task, attempt FROM runs ORDER BY task, attempt')) {
    (runs[r.task] ??= []).push(r.attempt);
  }
  const fires: Record<string, string[]> = {};
  for (const f of await ledger.query<{ task: string; fire_time: Date }>('SELECT task, fire_time FROM fires ORDER BY task, fire_time')) {
    (fires[f.task] ??= []).push(f.fire_time.toISOString());
  }
  return { runs, fires };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('retention: pruning runs and fire records against a real PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  const extra: Ledger[] = [];
  let seq = 0;
  const submitted = new Date('2026-11-22T10:00:00Z');
  /** Fire times of the cron task, the newest last. */
  const fireTimes: string[] = [];

  const exit = (name: string, attempt: number, code: number): RunExited => {
    const at = new Date().toISOString();
    return { name, attempt, host: 'h1', exit_code: code, reason: null, output: `run ${attempt}`, started_at: at, finished_at: at, run_id: `pid:${attempt}` };
  };
  /** One run of a ready task, ended with `code`. */
  const run = async (name: string, code: number | null): Promise<void> => {
    const [t] = await ledger.query<{ attempt: number }>('SELECT attempt FROM tasks WHERE name = $1', [name]);
    const placed = await placeTasks(ledger, [{ name, attempt: t!.attempt, host: 'h1' }]);
    assert.equal(placed.length, 1, `${name} placed`);
    if (code !== null) await recordExits(ledger, [exit(name, t!.attempt + 1, code)]);
  };
  /** The cron task's next fire time comes: fired (a run follows, exit 0) or skipped. */
  const fire = async (name: string, outcome: 'fired' | 'skipped_busy'): Promise<void> => {
    const [due] = (await readDueTasks(ledger, new Date('2030-01-01T00:00:00Z'), 1000)).filter((d) => d.name === name);
    assert.ok(due, `${name} is due`);
    const applied = await applyFires(ledger, [{
      name, version: due.version, from: due.state, due: due.next_run_at, fire_time: due.next_run_at, outcome, missed_from: null,
      next_run_at: new Date(due.next_run_at.getTime() + 3600_000), child: null, attempt: due.attempt, host: due.host,
    }]);
    assert.equal(applied.applied.length, 1);
    fireTimes.push(due.next_run_at.toISOString());
    if (outcome === 'fired') await run(name, 0);
  };

  before(async () => {
    db = await createDatabase('retention');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
    // Placement puts work only on a host the ledger has up.
    await ledger.query("INSERT INTO hosts (id, labels, slots, executors) VALUES ('h1', '{}', 1000, '{process}')");
    const submit = (s: TaskSpec) => submitTasks(ledger, [{ seq: ++seq, spec: s }], submitted);
    // Retried seven times, its eighth attempt running now.
    await submit(spec('retried-running', { recoverable_exitcodes: [75], max_failures: 100 }));
    for (let i = 0; i < 7; i++) await run('retried-running', 75);
    await run('retried-running', null);
    // Finished after five runs: one succeeded at last, one failed for good.
    await submit(spec('finished-ok', { recoverable_exitcodes: [75], max_failures: 100 }));
    for (let i = 0; i < 4; i++) await run('finished-ok', 75);
    await run('finished-ok', 0);
    await submit(spec('finished-failed', { recoverable_exitcodes: [75], max_failures: 5 }));
    for (let i = 0; i < 5; i++) await run('finished-failed', 75);
    // Back in the queue after six failed runs (ready: its next attempt not placed yet).
    await submit(spec('retry-waiting', { recoverable_exitcodes: [75], max_failures: 100 }));
    for (let i = 0; i < 6; i++) await run('retry-waiting', 75);
    // A cron task: eight fire times that ran and four skipped, interleaved.
    await submit(spec('hourly', { cron: '@hourly' }));
    for (let i = 0; i < 12; i++) await fire('hourly', i % 3 === 2 ? 'skipped_busy' : 'fired');
    // Within every limit: three runs and a success; one run; none at all.
    await submit(spec('at-limit', { recoverable_exitcodes: [75], max_failures: 100 }));
    await run('at-limit', 75);
    await run('at-limit', 75);
    await run('at-limit', 0);
    await submit(spec('single'));
    await run('single', 0);
    await submit(spec('never-ran', { dependencies: ['not-submitted'] }));
    // Volume for the concurrent prunes: 3,000 runs of one task (its attempts 1..3000, as placements make them).
    await submit(spec('bulk'));
    await ledger.query(fixtureSql(`UPDATE tasks SET attempt = 3000, state = 'failed' WHERE name = 'bulk'`));
    await ledger.query(`INSERT INTO runs (task, attempt, host, exit_code, output, finished_at)
                        SELECT 'bulk', a, 'h1', 1, repeat('x', 100), now() FROM generate_series(1, 3000) a`);
    await ledger.query(`INSERT INTO fires (task, fire_time, outcome)
                        SELECT 'bulk', '2026-01-01'::timestamptz + make_interval(mins => k), 'fired' FROM generate_series(1, 1000) k`);
  });
  after(async () => {
    for (const l of [ledger, ...extra]) await l.close();
    await db.drop();
  });

  const tasksRows = () => ledger.query('SELECT name, state, attempt, failures, version, updated_at, next_run_at FROM tasks ORDER BY name');

  it('starts with the history built, beyond the limits', async () => {
    const { runs, fires } = await history(ledger);
    assert.deepEqual(runs['retried-running'], range(1, 8));
    assert.deepEqual(runs['finished-ok'], range(1, 5));
    assert.deepEqual(runs['hourly'], range(1, 8));
    assert.equal(fires['hourly']?.length, 12);
    assert.equal(runs['bulk']?.length, 3000);
  });

  let tasksBefore: unknown[];
  it('keeps the newest runs of every task and its current attempt, the newest fire records, in small pages and batches', async () => {
    tasksBefore = await tasksRows();
    // One statement per call (budget 0), pages of two tasks, at most 40 rows per table and statement.
    let resume: string | null = '';
    let calls = 0;
    const deleted = { runs: 0, fires: 0 };
    while (resume !== null) {
      const r = await pruneHistory(ledger, policy, { now: new Date(), budgetMs: 0, after: resume, tasks: 2, rows: 40 });
      assert.equal(r.statements, 1);
      deleted.runs += r.runs;
      deleted.fires += r.fires;
      resume = r.resume;
      calls += 1;
      assert.ok(calls < 500, 'the walk ends');
    }
    // The page of at-limit and bulk is taken again while its delete is full: 2,997 runs at 40 a statement.
    assert.ok(calls > 74, `the bulk task's runs took many full batches (${calls} statements)`);
    const { runs, fires } = await history(ledger);
    assert.deepEqual(runs, {
      'retried-running': [6, 7, 8],
      'finished-ok': [3, 4, 5],
      'finished-failed': [3, 4, 5],
      'retry-waiting': [4, 5, 6],
      hourly: [6, 7, 8],
      'at-limit': [1, 2, 3],
      single: [1],
      bulk: [2998, 2999, 3000],
    });
    assert.deepEqual(fires['hourly'], fireTimes.slice(-5));
    assert.equal(fires['bulk']?.length, 5);
    assert.deepEqual(deleted, { runs: 5 + 2 + 2 + 3 + 5 + 2997, fires: 7 + 995 }, 'every row counted once');
    assert.deepEqual(await tasksRows(), tasksBefore, 'tasks themselves are untouched');
  });

  it('changes nothing when it runs again', async () => {
    const before = await history(ledger);
    const r = await pruneHistory(ledger, policy, { now: new Date(), budgetMs: 10_000 });
    assert.deepEqual(r, { runs: 0, fires: 0, statements: 1, resume: null });
    assert.deepEqual(await history(ledger), before);
  });

  it('keeps only the latest run of a task finished longer ago than the retention; unfinished tasks keep theirs', async () => {
    const later = new Date(Date.now() + 2 * DAY);
    const r = await pruneHistory(ledger, policy, { now: later, budgetMs: 10_000 });
    assert.equal(r.resume, null);
    const { runs } = await history(ledger);
    assert.deepEqual(runs, {
      'retried-running': [6, 7, 8],
      'finished-ok': [5],
      'finished-failed': [5],
      'retry-waiting': [4, 5, 6],
      hourly: [6, 7, 8],
      'at-limit': [3],
      single: [1],
      bulk: [3000],
    });
    assert.deepEqual((await pruneHistory(ledger, policy, { now: later, budgetMs: 10_000 })).runs, 0, 'a second run changes nothing');
    // What tasks.get shows: the runs kept, and the finished task still answers with its state and last run.
    const view = await getTask(ledger, 'finished-ok');
    assert.equal(view?.state, 'success');
    assert.deepEqual(view?.runs?.map((x) => [x.attempt, x.exit_code, x.output]), [[5, 0, 'run 5']]);
    assert.deepEqual((await getTask(ledger, 'hourly'))?.fires?.map((f) => f.fire_time), fireTimes.slice(-5).reverse());
  });

  it('a pruned success still satisfies a dependent submitted later, and the running attempt still takes its report', async () => {
    const res = await submitTasks(ledger, [{ seq: ++seq, spec: spec('after-ok', { dependencies: ['finished-ok'] }) }], new Date());
    assert.deepEqual(res.events.map((e) => [e.name, e.state]), [['after-ok', 'ready']]);
    const { events } = await recordExits(ledger, [exit('retried-running', 8, 0)]);
    assert.deepEqual(events.map((e) => e.state), ['running', 'success']);
    const view = await getTask(ledger, 'retried-running');
    assert.deepEqual(view?.runs?.map((x) => [x.attempt, x.exit_code]), [[6, 75], [7, 75], [8, 0]]);
  });

  it('with RUNS_KEEP 1 every task keeps exactly its current attempt', async () => {
    await pruneHistory(ledger, { ...policy, runsKeep: 1 }, { now: new Date(), budgetMs: 10_000 });
    const rows = await ledger.query<{ name: string; attempt: number; kept: number[] | null }>(
      `SELECT t.name, t.attempt, (SELECT array_agg(r.attempt ORDER BY r.attempt) FROM runs r WHERE r.task = t.name) AS kept
         FROM tasks t ORDER BY t.name`,
    );
    for (const r of rows) assert.deepEqual(r.kept, r.attempt === 0 ? null : [r.attempt], r.name);
    assert.ok(rows.filter((r) => r.attempt > 0).length >= 8);
  });

  it('two prunings at once both finish without an error, and every row goes once', async () => {
    // Fresh volume: another 3,000 runs beyond the limit and 1,000 fire records.
    await ledger.query(`UPDATE tasks SET attempt = 6000 WHERE name = 'bulk'`);
    await ledger.query(`INSERT INTO runs (task, attempt, host, exit_code, output, finished_at)
                        SELECT 'bulk', a, 'h1', 1, repeat('x', 100), now() FROM generate_series(3001, 6000) a`);
    await ledger.query(`INSERT INTO fires (task, fire_time, outcome)
                        SELECT 'bulk', '2027-01-01'::timestamptz + make_interval(mins => k), 'fired' FROM generate_series(1, 1000) k`);
    const replicas = [openLedger({ databaseUrl: db.url, log, max: 1 }), openLedger({ databaseUrl: db.url, log, max: 1 })];
    extra.push(...replicas);
    const results = await Promise.all(replicas.map((l) => pruneHistory(l, policy, { now: new Date(), budgetMs: 30_000, rows: 100 })));
    for (const r of results) assert.equal(r.resume, null);
    // 3,000 new runs plus the one left before: the newest three stay. 1,005 fire records: the newest five stay.
    assert.equal(results[0]!.runs + results[1]!.runs, 3001 - 3, JSON.stringify(results));
    assert.equal(results[0]!.fires + results[1]!.fires, 1000);
    const { runs, fires } = await history(ledger);
    assert.deepEqual(runs['bulk'], [5998, 5999, 6000]);
    assert.equal(fires['bulk']?.length, 5);
    assert.ok(fires['bulk']!.every((t) => t.startsWith('2027-01-01')), 'the newest fire times stay');
  });

  it('skips a row another transaction holds instead of waiting for it, and removes it at the next prune', async () => {
    await ledger.query(`UPDATE tasks SET attempt = 6010 WHERE name = 'bulk'`);
    await ledger.query(`INSERT INTO runs (task, attempt, host, finished_at) SELECT 'bulk', a, 'h1', now() FROM generate_series(6001, 6010) a`);
    const holder = await ledger.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM runs WHERE task = 'bulk' AND attempt = 6000 FOR UPDATE`);
      const prune = pruneHistory(ledger, policy, { now: new Date(), budgetMs: 10_000 });
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'waited'>((resolve) => { timer = setTimeout(() => resolve('waited'), 5000); });
      const r = await Promise.race([prune, waited]);
      clearTimeout(timer);
      assert.notEqual(r, 'waited', 'the prune waited for the row lock');
      assert.equal(typeof r === 'object' && r.runs, 9);
      assert.deepEqual((await history(ledger)).runs['bulk'], [6000, 6008, 6009, 6010]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    assert.equal((await pruneHistory(ledger, policy, { now: new Date(), budgetMs: 10_000 })).runs, 1);
    assert.deepEqual((await history(ledger)).runs['bulk'], [6008, 6009, 6010]);
  });
});

/** The services as processes: host-health prunes on its own timer, and every process applies the streams' limits. */
describe('retention in a running Tangerine', () => {
  const cluster = new Cluster('retention', {
    PRUNE_INTERVAL: '0.2', RUNS_KEEP: '2', FIRES_KEEP: '3', STREAM_MAX_BYTES: '2097152', EVENTS_MAX_BYTES: '3145728',
  });
  let ledger: Ledger;

  before(async () => {
    await cluster.start({ services: ['host-health', 'api'] });
    ledger = openLedger({ databaseUrl: cluster.databaseUrl, log });
  });
  after(async () => {
    await ledger?.close();
    await cluster.stop();
  });

  it('host-health prunes runs and fire records beyond RUNS_KEEP and FIRES_KEEP; tasks.get shows what is kept', async () => {
    await submitTasks(ledger, [{ seq: 1, spec: spec('pruned-live') }], new Date());
    // In one transaction, so that one prune finds all of it.
    await ledger.transaction(async (tx) => {
      await tx.query(SKIP_TRANSITION_CHECK);
      await tx.query(`UPDATE tasks SET attempt = 10, state = 'failed' WHERE name = 'pruned-live'`);
      await tx.query(`INSERT INTO runs (task, attempt, host, exit_code, finished_at)
                      SELECT 'pruned-live', a, 'h1', 1, now() FROM generate_series(1, 10) a`);
      await tx.query(`INSERT INTO fires (task, fire_time, outcome)
                      SELECT 'pruned-live', '2026-01-01'::timestamptz + make_interval(hours => k), 'fired' FROM generate_series(1, 10) k`);
    });
    const view = await cluster.client.waitFor('pruned-live', (t) => t.runs?.length === 2 && t.fires?.length === 3, 15000);
    assert.deepEqual(view.runs?.map((r) => r.attempt), [9, 10]);
    assert.deepEqual(view.fires?.map((f) => f.fire_time), ['2026-01-01T10:00:00.000Z', '2026-01-01T09:00:00.000Z', '2026-01-01T08:00:00.000Z']);
    const line = await cluster.services.get('host-health')!.waitForLine((l) => l['msg'] === 'history pruned');
    assert.deepEqual([line['runs'], line['fires'], line['complete']], [8, 7, true]);
  });

  it('the streams carry STREAM_MAX_BYTES and EVENTS_MAX_BYTES', async () => {
    const jsm = await jetstreamManager(cluster.client.nc);
    for (const name of [Streams.commands.name, Streams.dispatch.name, Streams.reports.name]) {
      const c = (await jsm.streams.info(name)).config;
      assert.deepEqual([c.max_bytes, c.discard], [2097152, 'new'], name);
    }
    const events = (await jsm.streams.info(Streams.events.name)).config;
    assert.deepEqual([events.max_bytes, events.discard], [3145728, 'old']);
  });
});
