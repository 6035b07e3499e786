import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseTaskSpec, type TaskSpec } from '@tangerine/contracts';
import { fillMinutes, migrate, openLedger, readEndedPerMinute, readReadyByLabels, readUpcoming, readWorkflow, submitTasks, type Ledger } from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { createDatabase, fixtureSql } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const spec = (name: string, extra: Record<string, unknown> = {}): TaskSpec => parseTaskSpec({ name, executor: 'process', command: ['true'], ...extra });

/** The status page's reads (libs/ledger tasks/overview.ts, workflow.ts, upcoming.ts) on a real PostgreSQL. */
describe('the status page\'s ledger reads', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;

  before(async () => {
    db = await createDatabase('status-reads');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
  });
  after(async () => {
    await ledger.close();
    await db.drop();
  });

  it('walks a workflow both ways from any of its tasks, names a dependency not submitted, and stops at the limit', async () => {
    // a → b → d, a → c → d, e → c; z alone; d also waits on "ghost", never submitted.
    await submitTasks(ledger, [
      { seq: 1, spec: spec('wf-a') }, { seq: 2, spec: spec('wf-b', { dependencies: ['wf-a'] }) },
      { seq: 3, spec: spec('wf-c', { dependencies: ['wf-a', 'wf-e'] }) }, { seq: 4, spec: spec('wf-d', { dependencies: ['wf-b', 'wf-c', 'wf-ghost'] }) },
      { seq: 5, spec: spec('wf-e') }, { seq: 6, spec: spec('wf-z') },
    ], new Date());
    for (const from of ['wf-a', 'wf-d', 'wf-e']) {
      const g = await readWorkflow(ledger, from);
      assert.ok(g);
      assert.deepEqual(g.nodes.map((n) => n.name).sort(), ['wf-a', 'wf-b', 'wf-c', 'wf-d', 'wf-e', 'wf-ghost'], from);
      assert.deepEqual(g.edges.map((e) => `${e.from}>${e.to}`).sort(), ['wf-a>wf-b', 'wf-a>wf-c', 'wf-b>wf-d', 'wf-c>wf-d', 'wf-e>wf-c', 'wf-ghost>wf-d']);
      assert.equal(g.truncated, false);
    }
    const g = (await readWorkflow(ledger, 'wf-d'))!;
    assert.equal(g.nodes.find((n) => n.name === 'wf-ghost')?.state, null);
    assert.equal(g.nodes.find((n) => n.name === 'wf-a')?.state, 'ready');
    assert.equal(g.nodes.find((n) => n.name === 'wf-d')?.state, 'waiting');
    assert.deepEqual(await readWorkflow(ledger, 'wf-z'), { name: 'wf-z', nodes: [{ name: 'wf-z', state: 'ready' }], edges: [], truncated: false });
    assert.equal(await readWorkflow(ledger, 'wf-none'), null);
    // At most 3: the task and its nearest, and only the edges between those.
    const cut = (await readWorkflow(ledger, 'wf-b', 3))!;
    assert.equal(cut.truncated, true);
    assert.deepEqual(cut.nodes.map((n) => n.name).sort(), ['wf-a', 'wf-b', 'wf-d']);
    assert.deepEqual(cut.edges.map((e) => `${e.from}>${e.to}`).sort(), ['wf-a>wf-b', 'wf-b>wf-d']);
  });

  it('groups the ready tasks by the labels they need, the largest group first', async () => {
    await submitTasks(ledger, [
      { seq: 10, spec: spec('lb-1', { constraints: { zone: 'a' } }) }, { seq: 11, spec: spec('lb-2', { constraints: { zone: 'a' } }) },
      { seq: 12, spec: spec('lb-3', { constraints: { zone: 'a' } }) }, { seq: 13, spec: spec('lb-4', { constraints: { gpu: 'yes', zone: 'b' } }) },
    ], new Date());
    // Ready so far: wf-a, wf-e, wf-z (no labels) and the four above; a tie goes by the labels (jsonb's order).
    assert.deepEqual(await readReadyByLabels(ledger), [
      { constraints: {}, count: 3 }, { constraints: { zone: 'a' }, count: 3 }, { constraints: { gpu: 'yes', zone: 'b' }, count: 1 },
    ]);
  });

  it('counts the runs ended per minute in the last hour, succeeded by exit code 0', async () => {
    await ledger.query(fixtureSql(`INSERT INTO runs (task, attempt, host, exit_code, finished_at) VALUES
      ('wf-z', 1, 'h', 0, now()), ('wf-z', 2, 'h', 0, now()), ('wf-z', 3, 'h', 2, now()), ('wf-z', 4, 'h', NULL, now()),
      ('wf-z', 5, 'h', 0, now() - interval '2 hours'), ('wf-z', 6, 'h', NULL, NULL)`));
    const now = new Date();
    const minutes = fillMinutes(await readEndedPerMinute(ledger, new Date(now.getTime() - 3_600_000)), now);
    assert.equal(minutes.length, 60);
    assert.deepEqual(minutes.reduce((t, m) => [t[0]! + m.succeeded, t[1]! + m.failed], [0, 0]), [2, 2], 'the lost run (no exit code) counts as failed; the old one not at all');
  });

  it('lists the next starts of cron and schedule_at tasks up to a time, soonest first, one more than the limit', async () => {
    await submitTasks(ledger, [
      { seq: 20, spec: spec('up-cron', { cron: '0 3 * * *' }) },
      { seq: 21, spec: spec('up-later', { schedule_at: new Date(Date.now() + 2 * 3_600_000).toISOString() }) },
      { seq: 22, spec: spec('up-far', { schedule_at: new Date(Date.now() + 40 * 86_400_000).toISOString() }) },
    ], new Date());
    // submitTasks leaves next_run_at to the cron service for a cron task: set as it would.
    await ledger.query(fixtureSql("UPDATE tasks SET next_run_at = now() + interval '1 hour' WHERE name = 'up-cron'"));
    const until = new Date(Date.now() + 30 * 86_400_000);
    const all = await readUpcoming(ledger, until, 10);
    assert.deepEqual(all.map((t) => [t.name, t.cron, t.schedule_at !== null]), [['up-cron', '0 3 * * *', false], ['up-later', null, true]]);
    assert.equal((await readUpcoming(ledger, until, 1)).length, 2, 'one more than the limit: the caller\'s sign that more follow');
  });
});
