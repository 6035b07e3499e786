// Reply bounds (issue #10): with 10,000 tasks (some of them with specs near the 256 KiB limit), a task with 200 runs
// of 64 KiB output and 3,000 hosts, one of them holding 5,000 runs, every request subject is called at its largest
// limit. Every reply stays under max_payload, the pages add up to everything, and no process dies. Once, `tasks.list`
// with a limit of 10,000 at 2,000 tasks ended every service of the process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subjects, type HostList, type RunList, type RunOutput, type TaskList, type TaskView } from '@tangerine/contracts';
import pg from 'pg';
import { Cluster } from '../helpers/cluster.js';
import { fixtureSql } from '../helpers/postgres.js';

const TASKS = 10_000;
const BIG = 40;
const enc = new TextEncoder();
const dec = new TextDecoder();

describe('every reply is bounded', () => {
  // No host is heard from here: nothing is placed, and no host is taken for lost while the test lasts.
  const cluster = new Cluster('bounds', { HOST_TIMEOUT: '3600', BATCH_SIZE: '1000', PRUNE_INTERVAL: '0' });
  let db: pg.Client;
  let maxPayload = 0;

  before(async () => {
    await cluster.start({ services: ['intake', 'api', 'host-health', 'monitor', 'resolver'] });
    maxPayload = cluster.client.nc.info!.max_payload;
    db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    for (let i = 0; i < TASKS; i += 1000) {
      cluster.client.submit(Array.from({ length: 1000 }, (_, j) => ({ name: `bulk-${String(i + j).padStart(5, '0')}`, executor: 'process', command: ['true'] })));
    }
    // Specs near the limit: ten arguments of 24,000 characters (240 KB).
    for (let i = 0; i < BIG; i++) {
      cluster.client.submit({ name: `big-${i}`, executor: 'process', command: Array.from({ length: 10 }, () => 'y'.repeat(24_000)) });
    }
    cluster.client.submit({ name: 'many-runs', executor: 'process', command: ['true'] });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const n = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tasks')).rows[0]!.n;
      if (n === TASKS + BIG + 1) break;
      if (Date.now() > deadline) throw new Error(`only ${n} tasks stored`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await db.query(
      `INSERT INTO runs (task, attempt, host, exit_code, output, started_at, finished_at)
       SELECT 'many-runs', a, 'h-0', 1, repeat(chr(97 + a % 26), 65536), now(), now() FROM generate_series(1, 200) a`,
    );
    await db.query(
      `INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen)
       SELECT 'h-' || lpad(i::text, 4, '0'), '{"zone": "a"}', 4, '{process}', 2, 1024, now() FROM generate_series(0, 2999) i`,
    );
    await db.query(
      `INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen) VALUES ('busy', '{}', 100000, '{process}', 64, 1024, now())`,
    );
    await db.query(fixtureSql("UPDATE tasks SET state = 'running', host = 'busy', attempt = 1 WHERE name IN (SELECT name FROM tasks WHERE name LIKE 'bulk-%' ORDER BY name LIMIT 5000)"));
  });
  after(async () => {
    await db?.end();
    await cluster.stop();
  });

  /** A request as `nats req` makes it; the reply's size is checked before anything else. */
  async function ask<T>(subject: string, body: unknown): Promise<T> {
    const reply = await cluster.client.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: 20_000 });
    assert.ok(reply.data.length <= maxPayload, `${subject}: ${reply.data.length} bytes is over max_payload ${maxPayload}`);
    const parsed = JSON.parse(dec.decode(reply.data)) as T & { error?: unknown };
    assert.equal(parsed.error, undefined, `${subject}: ${JSON.stringify(parsed.error)}`);
    return parsed;
  }

  it('tasks.list at its largest limit: a bounded page, and its pages add up to every task once', async () => {
    const first = await ask<TaskList>(Subjects.list.subject, { limit: 1_000_000 });
    assert.ok(first.tasks.length > 0 && first.tasks.length <= 1000);
    assert.ok(first.next !== null);
    const names: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: TaskList = await ask<TaskList>(Subjects.list.subject, { limit: 1_000_000, ...(after ? { after } : {}) });
      names.push(...page.tasks.map((t) => t.name));
      after = page.next;
      pages += 1;
    } while (after !== null);
    assert.equal(names.length, TASKS + BIG + 1);
    assert.equal(new Set(names).size, names.length, 'no task twice');
    assert.deepEqual(names, [...names].sort(), 'by name');
    assert.ok(pages >= 11, `${pages} pages`);
  });

  it('a page of large specs is cut by bytes, not only by count', async () => {
    const page = await ask<TaskList>(Subjects.list.subject, { prefix: 'big-', limit: 1000 });
    assert.ok(page.tasks.length < BIG, `${page.tasks.length} specs of 240 KB in one page`);
    assert.ok(page.next !== null);
    assert.ok(page.tasks.every((t) => t.name.startsWith('big-')));
  });

  it('tasks.list by state and prefix', async () => {
    const running = await ask<TaskList>(Subjects.list.subject, { state: 'running', prefix: 'bulk-0', limit: 1_000_000 });
    assert.ok(running.tasks.length > 0 && running.tasks.every((t) => t.state === 'running' && t.name.startsWith('bulk-0')));
  });

  it('tasks.get of a task with 200 runs of 64 KiB: its latest 10, output cut to its tail', async () => {
    const t = await ask<TaskView>(Subjects.get.subject, { name: 'many-runs' });
    assert.equal(t.runs_total, 200);
    assert.deepEqual(t.runs?.map((r) => r.attempt), Array.from({ length: 10 }, (_, i) => 191 + i));
    for (const r of t.runs ?? []) {
      assert.equal(r.output.length, 4096);
      assert.equal(r.output_chars, 65536);
    }
  });

  it('tasks.runs at its largest limit pages through every run; tasks.output gives one whole', async () => {
    const attempts: number[] = [];
    let before: number | null = null;
    do {
      const page: RunList = await ask<RunList>(Subjects.runs.subject, { name: 'many-runs', limit: 1_000_000, ...(before ? { before } : {}) });
      assert.ok(page.runs.length <= 50);
      attempts.unshift(...page.runs.map((r) => r.attempt));
      before = page.next;
    } while (before !== null);
    assert.deepEqual(attempts, Array.from({ length: 200 }, (_, i) => i + 1));
    const out = await ask<RunOutput>(Subjects.output.subject, { name: 'many-runs', attempt: 7 });
    assert.equal(out.output, 'h'.repeat(65536));
  });

  it('tasks.get of a spec near the limit', async () => {
    const t = await ask<TaskView>(Subjects.get.subject, { name: 'big-0' });
    assert.equal(t.spec.command.length, 10);
  });

  it('hosts.list at its largest limit pages through 3,001 hosts; a host of 5,000 runs names 1,000 of them', async () => {
    const ids: string[] = [];
    let after: string | null = null;
    let busy: HostList['hosts'][number] | undefined;
    do {
      const page: HostList = await ask<HostList>(Subjects.hostsList.subject, { limit: 1_000_000, ...(after ? { after } : {}) });
      assert.ok(page.hosts.length <= 1000);
      ids.push(...page.hosts.map((h) => h.host));
      busy ??= page.hosts.find((h) => h.host === 'busy');
      after = page.next;
    } while (after !== null);
    assert.equal(ids.length, 3001);
    assert.equal(new Set(ids).size, 3001);
    assert.equal(busy?.running.length, 1000);
    assert.equal(busy?.running_count, 5000);
  });

  it('no process died, and none logged an unhandled rejection', () => {
    for (const p of cluster.services.values()) {
      assert.equal(p.child?.exitCode, null, `${p.service} still runs`);
      assert.ok(!p.lines.some((l) => String(l['msg']).startsWith('unhandled promise rejection')), p.service);
    }
  });
});
