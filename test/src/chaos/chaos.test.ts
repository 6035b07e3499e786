import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import type { TaskEvent } from '@tangerine/contracts';
import pg from 'pg';
import { Cluster, TEST_IMAGE, serviceOf } from '../helpers/cluster.js';
import { waitFor, waitUntil } from '../helpers/wait.js';
import { planChaosTasks, predict, type ChaosTask } from './plan.js';

const TASKS = Number(process.env['CHAOS_TASKS'] ?? 150);
const DEADLINE_S = Number(process.env['CHAOS_DEADLINE'] ?? 300);
const HOST_TIMEOUT_S = 3;
/** Only for the shape of the workload and of the faults (waves, random gaps between kills): nothing is awaited by it. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

/** Services the driver kills: two replicas of every one, to show that replicas never run a task twice. */
const SERVICES = ['intake', 'resolver', 'placer', 'monitor', 'cron', 'host-health', 'relay', 'api'].flatMap((s) => [s, `${s}-2`]);
const AGENTS = [{ host: 'chaos-a', slots: 8 }, { host: 'chaos-b', slots: 8 }];

/**
 * `npm run test:chaos` (500 tasks; `npm test` runs 150): real processes killed while real work runs. Tasks append
 * `<name> <attempt>` to a shared file when they start, so duplicates are counted from what ran, not from the ledger.
 */
describe(`chaos: ${TASKS} tasks while services, an agent, NATS and PostgreSQL are killed`, () => {
  const cluster = new Cluster('chaos', { HOST_TIMEOUT: String(HOST_TIMEOUT_S), ACK_WAIT: '3' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-chaos-'));
  chmodSync(dir, 0o777);
  const counts = { kills: 0, restarts: 0 };
  let tasks: ChaosTask[] = [];
  let seconds = 0;
  let unfinished: string[] = [];

  before(async () => {
    await cluster.start({ ownPostgres: true, services: [...SERVICES], agents: AGENTS.map((a) => ({ ...a, labels: 'pool=chaos' })) });
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every task to the terminal state the rules predict, once', { timeout: (DEADLINE_S + 120) * 1000 }, async () => {
    tasks = planChaosTasks(TASKS, { dir, image: TEST_IMAGE });
    const started = Date.now();
    // Submitted in six waves two seconds apart, dependents sometimes before what they wait for, so that work is
    // going on through every fault; each one retried until the stream has it (NATS restarts meanwhile).
    const waves = (async () => {
      for (let w = 0; w < 6; w++) {
        await Promise.all(tasks.filter((_, i) => i % 6 === w).map((t) => cluster.client.submitStored(t.spec)));
        await sleep(2000);
      }
    })();

    let done = false;
    const chaos = (async () => {
      const faults: [number, () => Promise<void>][] = [
        [3000, async () => killAgent(await busiestAgent())],
        [7000, async () => cluster.nats.restart()],
        [11000, async () => cluster.postgres!.restart()],
      ];
      while (!done) {
        await sleep(between(1000, 3000));
        if (done) break;
        const elapsed = Date.now() - started;
        while (faults.length > 0 && faults[0]![0] <= elapsed) await faults.shift()![1]();
        const key = SERVICES[Math.floor(Math.random() * SERVICES.length)]!;
        await cluster.services.get(key)!.kill();
        counts.kills += 1;
        await sleep(between(200, 1000));
        cluster.startService(serviceOf(key), key);
        counts.restarts += 1;
      }
    })();
    const killAgent = async (host: string) => {
      await cluster.agents.get(host)!.kill();
      counts.kills += 1;
      // Down until it is declared down; then it comes back and must stop what moved elsewhere.
      agentBack = (async () => {
        await waitUntil(`${host} declared down`, async () => (await hostState(host).catch(() => null)) === 'down', 60_000);
        cluster.startAgent({ ...AGENTS.find((a) => a.host === host)!, labels: 'pool=chaos' });
        counts.restarts += 1;
      })();
    };
    let agentBack: Promise<void> = Promise.resolve();

    const names = new Set(tasks.map((t) => t.spec.name));
    while (Date.now() - started < DEADLINE_S * 1000) {
      const states = await ledgerStates().catch(() => null);
      if (states) {
        unfinished = [...names].filter((n) => !['success', 'failed', 'blocked'].includes(states.get(n)?.state ?? ''));
        if (unfinished.length === 0) break;
      }
      await sleep(1000);
    }
    done = true;
    await chaos;
    await waves;
    await agentBack;
    seconds = (Date.now() - started) / 1000;
    // Every service back, and the relay given the time to publish what a killed service committed but never
    // announced: until the event stream agrees with the ledger for every task (the next test says which do not).
    for (const key of SERVICES) {
      const p = cluster.services.get(key);
      if (!p?.child || p.child.exitCode !== null || p.child.signalCode !== null) cluster.startService(serviceOf(key), key);
    }
    assert.deepEqual(unfinished, [], 'tasks that never reached a terminal state (lost)');
    await waitUntil('the events to agree with the ledger', async () => (await disagreements().catch(() => null))?.length === 0, 60_000)
      .catch(() => undefined);
  });

  it('reaches the predicted state for every task, runs nothing twice, leaves no container, and the events agree', async () => {
    const states = await ledgerStates();
    const runs = await ledgerRuns();
    const executions = readExecutions(path.join(dir, 'runs.log'));
    const wrong: string[] = [];
    let duplicates = 0;
    for (const t of tasks) {
      const row = states.get(t.spec.name);
      const lostRuns = (runs.get(t.spec.name) ?? []).filter((r) => r.reason === 'host_lost' || r.reason === 'run_lost').length;
      const expected = predict(t, lostRuns > 0);
      if (!row || !expected.includes(row.state)) wrong.push(`${t.spec.name}: ${row?.state ?? 'missing'} (expected ${expected.join(' or ')})`);
      const ran = executions.get(t.spec.name) ?? [];
      // The same attempt started twice, or anything started after the attempt that succeeded.
      duplicates += ran.length - new Set(ran).size;
      if (row?.state === 'success') duplicates += ran.filter((a) => a > row.attempt).length;
      if (t.spec.restartable === false && new Set(ran).size > 1) duplicates += new Set(ran).size - 1;
    }
    const requeues = [...runs.values()].flat().filter((r) => r.reason === 'host_lost' || r.reason === 'run_lost').length;
    const disagree = await disagreements();
    // An agent removes a container once its exit report is stored; wait up to 10 s for the last ones.
    const containers = await waitFor('no container left', async () => {
      const left = await cluster.containers();
      return left.length === 0 ? left : undefined;
    }, 10_000).catch(() => cluster.containers());
    const table = {
      tasks: tasks.length, 'service kills': counts.kills - 1, 'agent kills': 1, restarts: counts.restarts + 2, requeues, duplicates,
      lost: unfinished.length, 'time (s)': Number(seconds.toFixed(1)),
    };
    // restarts: every killed process started again, plus nats-server and PostgreSQL restarted once each.
    console.log(`\n| ${Object.keys(table).join(' | ')} |\n|${Object.keys(table).map(() => '---').join('|')}|\n| ${Object.values(table).join(' | ')} |\n`);
    assert.deepEqual(wrong, [], 'tasks not in the predicted state');
    assert.equal(duplicates, 0, 'runs that should not have happened');
    assert.deepEqual(disagree.slice(0, 20), [], 'tasks whose last event disagrees with the ledger');
    assert.deepEqual(containers.map((c) => c.Names), [], 'containers left behind');
  });

  /** Tasks whose last event is not the ledger's state and version. */
  async function disagreements(): Promise<string[]> {
    const states = await ledgerStates();
    const events = await readEventHistory();
    return [...states.entries()]
      .filter(([name]) => !name.includes('-2026')) // children of cron tasks: none here
      .filter(([name, row]) => {
        const last = events.get(name);
        return !last || last.version !== row.version || last.state !== row.state;
      })
      .map(([name, row]) => `${name}: ledger ${row.state} v${row.version}, events ${events.get(name)?.state ?? 'none'} v${events.get(name)?.version ?? '-'}`);
  }

  async function hostState(host: string): Promise<string | undefined> {
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      return (await client.query<{ state: string }>('SELECT state FROM hosts WHERE id = $1', [host])).rows[0]?.state;
    } finally {
      await client.end();
    }
  }

  async function ledgerStates(): Promise<Map<string, { state: string; attempt: number; version: number }>> {
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const r = await client.query<{ name: string; state: string; attempt: number; version: string }>('SELECT name, state, attempt, version FROM tasks');
      return new Map(r.rows.map((x) => [x.name, { state: x.state, attempt: x.attempt, version: Number(x.version) }]));
    } finally {
      await client.end();
    }
  }

  /** The agent with the most runs going, so that its SIGKILL has work to lose. */
  async function busiestAgent(): Promise<string> {
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const r = await client.query<{ host: string }>(
        "SELECT host FROM tasks WHERE state IN ('placed', 'running') AND host IS NOT NULL GROUP BY host ORDER BY count(*) DESC LIMIT 1");
      return r.rows[0]?.host ?? 'chaos-a';
    } finally {
      await client.end();
    }
  }

  async function ledgerRuns(): Promise<Map<string, { attempt: number; reason: string | null }[]>> {
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const r = await client.query<{ task: string; attempt: number; reason: string | null }>('SELECT task, attempt, reason FROM runs');
      const out = new Map<string, { attempt: number; reason: string | null }[]>();
      for (const x of r.rows) out.set(x.task, [...(out.get(x.task) ?? []), { attempt: x.attempt, reason: x.reason }]);
      return out;
    } finally {
      await client.end();
    }
  }

  /** The newest event of every task in the TANGERINE_EVENTS stream, read from its first message. */
  async function readEventHistory(): Promise<Map<string, TaskEvent>> {
    const js = jetstream(cluster.client.nc);
    // No filter: nats-server 2.9 (Debian's) has no filter_subjects on ordered consumers.
    const consumer = await js.consumers.get('TANGERINE_EVENTS');
    const newest = new Map<string, TaskEvent>();
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      let n = 0;
      let pending = 0;
      for await (const m of batch) {
        n += 1;
        pending = m.info.pending;
        if (!m.subject.startsWith('tasks.events.')) continue;
        const e = m.json<TaskEvent>();
        const known = newest.get(e.name);
        if (!known || known.version < e.version) newest.set(e.name, e);
      }
      if (n === 0 || pending === 0) return newest;
    }
  }
});

/** `<name> <attempt>` lines the tasks wrote when they started. */
function readExecutions(file: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [name, attempt] = line.trim().split(' ');
    if (!name || !attempt) continue;
    out.set(name, [...(out.get(name) ?? []), Number(attempt)]);
  }
  return out;
}
