import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TASK_STATES, canTransition, isTangerineError, parseTaskSpec, type LedgerRefusedError } from '@tangerine/contracts';
import { migrate, openLedger, submitTasks, type Ledger } from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { createDatabase, fixtureSql } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });

describe('the ledger refuses a change of state that TRANSITIONS does not allow', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;

  before(async () => {
    db = await createDatabase('transitions');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
    await submitTasks(ledger, [{ seq: 1, spec: parseTaskSpec({ name: 'one', executor: 'process', command: ['true'] }) }], new Date());
  });
  after(async () => {
    await ledger?.close();
    await db?.drop();
  });

  it('the database function answers as canTransition for all 81 pairs', async () => {
    const rows = await ledger.query<{ from: string; to: string; allowed: boolean }>(
      `SELECT a AS from, b AS to, tangerine_transition_allowed(a, b) AS allowed
         FROM unnest($1::text[]) a CROSS JOIN unnest($1::text[]) b`,
      [TASK_STATES],
    );
    assert.equal(rows.length, 81);
    for (const r of rows) assert.equal(r.allowed, canTransition(r.from as never, r.to as never), `${r.from} → ${r.to}`);
    assert.ok(rows.some((r) => r.allowed) && rows.some((r) => !r.allowed));
  });

  it('refuses every forbidden UPDATE, naming the task and both states, and leaves the row as it was', async () => {
    const [before] = await ledger.query<{ state: string; version: string }>("SELECT state, version FROM tasks WHERE name = 'one'");
    assert.equal(before?.state, 'ready');
    for (const to of TASK_STATES.filter((s) => s !== 'ready' && !canTransition('ready', s))) {
      await assert.rejects(
        ledger.query('UPDATE tasks SET state = $1, version = version + 1 WHERE name = $2', [to, 'one']),
        (err: unknown) => {
          // The ledger's refusal, with PostgreSQL's error (the trigger's check_violation) as its cause.
          assert.ok(isTangerineError(err) && err instanceof Error, String(err));
          assert.equal(err.code, 'ledger_refused');
          assert.equal((err as LedgerRefusedError).sqlstate, '23514');
          const cause = err.cause as { constraint?: string; message: string };
          assert.equal(cause.constraint, 'tasks_transition');
          assert.equal(cause.message, `task one: the state cannot change from ready to ${to}`);
          assert.match(err.message, new RegExp(`SQLSTATE 23514: task one: the state cannot change from ready to ${to}`));
          return true;
        },
        `ready → ${to}`,
      );
    }
    const [after] = await ledger.query<{ state: string; version: string }>("SELECT state, version FROM tasks WHERE name = 'one'");
    assert.deepEqual(after, before);
  });

  it('a statement of many rows fails whole when one of them is refused', async () => {
    await submitTasks(ledger, [{ seq: 2, spec: parseTaskSpec({ name: 'two', executor: 'process', command: ['true'] }) }], new Date());
    await ledger.query(fixtureSql("UPDATE tasks SET state = 'running' WHERE name = 'two'"));
    // ready → placed is allowed, running → placed is not.
    await assert.rejects(ledger.query("UPDATE tasks SET state = 'placed' WHERE name IN ('one', 'two')"), /from running to placed/);
    const rows = await ledger.query<{ name: string; state: string }>("SELECT name, state FROM tasks WHERE name IN ('one', 'two') ORDER BY name");
    assert.deepEqual(rows, [{ name: 'one', state: 'ready' }, { name: 'two', state: 'running' }]);
  });

  it('allows a transition TRANSITIONS lists, and an update that leaves the state as it is', async () => {
    await ledger.query("UPDATE tasks SET state = 'placed', attempt = attempt + 1 WHERE name = 'one'");
    await ledger.query("UPDATE tasks SET state = 'placed', reason = 'same state' WHERE name = 'one'");
    const [row] = await ledger.query<{ state: string; reason: string }>("SELECT state, reason FROM tasks WHERE name = 'one'");
    assert.deepEqual(row, { state: 'placed', reason: 'same state' });
  });
});
