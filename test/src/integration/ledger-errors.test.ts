import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasCode, isOutage, isRowError, isTangerineError, isTimeout, parseTaskSpec, type TaskSpec } from '@tangerine/contracts';
import { migrate, openLedger, placeTasks, readDueTasks, recordExits, submitTasks, type Ledger } from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { planFires } from '@tangerine/cron-service';
import { createDatabase } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const spec = (name: string, extra: Record<string, unknown> = {}): TaskSpec =>
  parseTaskSpec({ name, executor: 'process', command: ['true'], ...extra });

/** What a ledger call threw. */
async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to throw');
}

describe('ledger errors by SQLSTATE, and rows parsed, against a real PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  const extra: Ledger[] = [];

  before(async () => {
    db = await createDatabase('ledger_errors');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
    await ledger.query(`INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen) VALUES ('h1', '{}', 8, '{process}', 2, 1024, now())`);
  });
  after(async () => {
    for (const l of [ledger, ...extra]) await l.close();
    await db.drop();
  });

  it('a statement PostgreSQL refuses (22012, 22P02) is ledger_refused with its SQLSTATE, not an outage', async () => {
    for (const [sql, sqlstate] of [['SELECT 1/0', '22012'], ["SELECT 'x'::int", '22P02']] as const) {
      const err = await thrown(ledger.query(sql));
      assert.ok(hasCode(err, 'ledger_refused'), `${sql}: ${String(err)}`);
      assert.equal((err as { sqlstate?: string }).sqlstate, sqlstate);
      assert.ok(!isOutage(err));
    }
  });

  it('a statement over STATEMENT_TIMEOUT (57014) is ledger_timeout', async () => {
    const slow = openLedger({ databaseUrl: db.url, log, statementTimeoutMs: 50 });
    extra.push(slow);
    const err = await thrown(slow.query('SELECT pg_sleep(2)'));
    assert.ok(isTimeout(err) && hasCode(err, 'ledger_timeout'), String(err));
  });

  it('a server that refuses the connection, or ends it (57P01), is ledger_unavailable', async () => {
    const nowhere = openLedger({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', log });
    extra.push(nowhere);
    const refused = await thrown(nowhere.query('SELECT 1'));
    assert.ok(hasCode(refused, 'ledger_unavailable'), String(refused));
    const ended = await thrown(ledger.query('SELECT pg_terminate_backend(pg_backend_pid())'));
    assert.ok(isOutage(ended) && hasCode(ended, 'ledger_unavailable'), String(ended));
    assert.deepEqual(await ledger.query('SELECT 1 AS one'), [{ one: 1 }], 'the pool opens another connection');
  });

  it('an error it does not know (P0001, raised by a function) stays unknown, not an outage', async () => {
    const err = await thrown(ledger.query("DO $$ BEGIN RAISE EXCEPTION 'nobody foresaw this'; END $$"));
    assert.ok(!isTangerineError(err), String(err));
    assert.equal((err as { code?: string }).code, 'P0001');
  });

  it('a placed task whose stored spec does not parse comes back with a RowError naming the column; the others are dispatched', async () => {
    await submitTasks(ledger, [{ seq: 1, spec: spec('good') }, { seq: 2, spec: spec('edited') }], new Date());
    // A hand edit: the image of a process task as a number.
    await ledger.query(`UPDATE tasks SET spec = jsonb_set(spec, '{image}', '5'::jsonb) WHERE name = 'edited'`);
    const placed = await placeTasks(ledger, ['good', 'edited'].map((name) => ({ name, attempt: 0, host: 'h1' })));
    const byName = new Map(placed.map((p) => [p.event.name, p]));
    assert.equal(byName.get('good')?.spec?.command[0], 'true');
    const bad = byName.get('edited');
    assert.equal(bad?.spec, null);
    assert.ok(isRowError(bad?.error), String(bad?.error));
    assert.equal(bad?.error?.field, 'tasks.spec.image');
    assert.match(bad?.error?.message ?? '', /^tasks\.spec\.image: must be/);
  });

  it('an exit report of a task whose stored spec does not parse throws a RowError before anything is written', async () => {
    const report = {
      name: 'edited', attempt: 1, host: 'h1', exit_code: 3, reason: null, output: 'x',
      started_at: new Date().toISOString(), finished_at: new Date().toISOString(),
    };
    const err = await thrown(recordExits(ledger, [report]));
    assert.ok(isRowError(err) && hasCode(err, 'invalid_row'), String(err));
    const [row] = await ledger.query<{ state: string; finished: boolean }>(
      `SELECT t.state, r.finished_at IS NOT NULL AS finished FROM tasks t JOIN runs r ON r.task = t.name WHERE t.name = 'edited'`);
    assert.deepEqual(row, { state: 'placed', finished: false });
  });

  it('a due cron task whose stored spec does not parse is set apart by the cron plan with its RowError; the others fire', async () => {
    const now = new Date();
    await submitTasks(ledger, [{ seq: 3, spec: spec('cron-good', { cron: '* * * * *' }) }, { seq: 4, spec: spec('cron-edited', { cron: '* * * * *' }) }], now);
    await ledger.query(`UPDATE tasks SET next_run_at = now() - interval '1 second' WHERE name IN ('cron-good', 'cron-edited')`);
    await ledger.query(`UPDATE tasks SET spec = jsonb_set(spec, '{max_failures}', '"many"'::jsonb) WHERE name = 'cron-edited'`);
    const due = await readDueTasks(ledger, new Date(Date.now() + 1000), 10);
    assert.deepEqual(due.map((d) => d.name).sort(), ['cron-edited', 'cron-good']);
    const good = due.find((d) => d.name === 'cron-good')!;
    const edited = due.find((d) => d.name === 'cron-edited')!;
    assert.equal(good.spec.cron, '* * * * *');
    // Thrown when the spec is read: the cron service's plan catches it per task, and parks that task alone.
    assert.throws(() => edited.spec, (err: unknown) => isRowError(err) && err.field === 'tasks.spec.max_failures'
      && /^tasks\.spec\.max_failures: must be an integer/.test(err.message));
    const plan = planFires(due, new Date(Date.now() + 1000));
    assert.deepEqual(plan.fires.map((f) => f.name), ['cron-good']);
    assert.deepEqual(plan.unreadable.map((u) => u.name), ['cron-edited']);
    assert.match(plan.unreadable[0]!.reason, /tasks\.spec\.max_failures: must be an integer/);
  });
});
