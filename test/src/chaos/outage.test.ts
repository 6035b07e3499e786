// Outages longer than every timeout (issue #10): NATS stopped for 30 s, then PostgreSQL stopped for 30 s, while
// containers and process runs of restartable and non-restartable tasks run, some of them ending during the outage.
// HOST_TIMEOUT is 10 s and ACK_WAIT 3 s here: before host-health asked for evidence, each outage requeued the
// restartable runs (a second run beside the first) and failed the others with host_lost.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HostEvent, TaskView } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';

const OUTAGE_MS = Number(process.env['OUTAGE_MS'] ?? 30_000);
const HOSTS = ['out-a', 'out-b'];

describe('outages of NATS and PostgreSQL longer than the timeouts', () => {
  const cluster = new Cluster('outage', { HOST_TIMEOUT: '10' });
  const marks = mkdtempSync(path.join(os.tmpdir(), 'tangerine-outage-'));
  const hostEvents: HostEvent[] = [];
  chmodSync(marks, 0o777);

  before(async () => {
    await cluster.start({ ownPostgres: true, agents: HOSTS.map((host) => ({ host, slots: 8 })) });
    cluster.client.nc.subscribe('hosts.events.>', {
      callback: (_e, m) => { hostEvents.push(JSON.parse(new TextDecoder().decode(m.data)) as HostEvent); },
    });
  });
  after(async () => {
    await cluster.stop();
    rmSync(marks, { recursive: true, force: true });
  });

  /**
   * Tasks that write a line when they start, so that a second run shows: containers and processes, restartable and
   * not, most outlasting the outage, two ending while it lasts.
   */
  function submitWork(prefix: string): string[] {
    const long = Math.round((OUTAGE_MS + 12_000) / 1000);
    const short = Math.round(OUTAGE_MS / 2000);
    const names: string[] = [];
    for (const [kind, seconds] of [['long', long], ['short', short]] as const) {
      for (const restartable of [true, false]) {
        const name = `${prefix}-${kind}-${restartable ? 'again' : 'once'}`;
        names.push(`${name}-c`, `${name}-p`);
        const line = (file: string) => `echo ran >> ${file}; sleep ${seconds}`;
        cluster.client.submit({ name: `${name}-c`, image: TEST_IMAGE, volumes: [`${marks}:/marks`], command: ['sh', '-c', line(`/marks/${name}-c`)], restartable });
        cluster.client.submit({ name: `${name}-p`, executor: 'process', command: ['sh', '-c', line(path.join(marks, `${name}-p`))], restartable });
      }
    }
    return names;
  }

  /** Waits for every task to succeed, and checks that each ran once: one run, one line, no failure, no requeue. */
  async function expectEachRanOnce(names: string[], timeoutMs: number): Promise<TaskView[]> {
    const done: TaskView[] = [];
    for (const name of names) done.push(await cluster.client.waitForState(name, 'success', timeoutMs));
    for (const t of done) {
      assert.equal(t.runs_total, 1, `${t.name}: one run (${JSON.stringify(t.runs?.map((r) => r.reason))})`);
      assert.equal(t.failures, 0, t.name);
      assert.equal(t.runs?.[0]?.reason ?? null, null, t.name);
      assert.equal(readFileSync(path.join(marks, t.name), 'utf8'), 'ran\n', `${t.name} started once`);
    }
    return done;
  }

  /** A task submitted right after the server is back is placed within 5 s of its return. */
  async function expectNewWorkPlaced(name: string, backAt: number): Promise<void> {
    await cluster.client.submitStored({ name, executor: 'process', command: ['true'] } as { name: string });
    const t = await cluster.client.waitForState(name, 'success', 30_000);
    const placedAt = Date.parse(t.runs?.[0]?.placed_at ?? '');
    assert.ok(placedAt - backAt < 5000, `placed ${placedAt - backAt} ms after the server came back`);
  }

  async function waitRunning(names: string[]): Promise<void> {
    for (const name of names) await cluster.client.waitForState(name, 'running', 60_000);
  }

  function assertNoHostWentDown(): void {
    const down = hostEvents.filter((e) => e.state === 'down');
    assert.deepEqual(down, [], 'no host was taken for lost');
    for (const [host, p] of cluster.agents) assert.equal(p.child?.exitCode, null, `the agent of ${host} still runs`);
  }

  it(`NATS stopped for ${OUTAGE_MS / 1000} s: 0 requeues, 0 duplicates, all succeed, new work placed within 5 s`, async () => {
    const names = submitWork('nats');
    await waitRunning(names);
    await cluster.nats.down();
    // The outage's length is the scenario (longer than HOST_TIMEOUT and ACK_WAIT): a time on purpose.
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await cluster.nats.up();
    const backAt = Date.now();
    await expectNewWorkPlaced('nats-after', backAt);
    await expectEachRanOnce(names, OUTAGE_MS + 60_000);
    assertNoHostWentDown();
    const lines = [...cluster.services.values()].flatMap((p) => p.lines);
    assert.ok(!lines.some((l) => l['msg'] === 'message set aside: it can never be handled'), 'nothing was set aside');
  });

  it(`PostgreSQL stopped for ${OUTAGE_MS / 1000} s: 0 requeues, 0 duplicates, all succeed, new work placed within 5 s`, async () => {
    const names = submitWork('pg');
    await waitRunning(names);
    await cluster.postgres!.down();
    // Submitted while the ledger is away: kept by the stream, accepted once it is back.
    cluster.client.submit({ name: 'pg-during', executor: 'process', command: ['true'] });
    // The outage's length is the scenario: a time on purpose.
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await cluster.postgres!.up();
    const backAt = Date.now();
    await expectNewWorkPlaced('pg-after', backAt);
    await expectEachRanOnce(names, OUTAGE_MS + 60_000);
    assert.equal((await cluster.client.waitForState('pg-during', 'success', 30_000)).runs_total, 1);
    assertNoHostWentDown();
    // The monitor waited the outage out with the reports in hand: it noted the outage, it did not give up on them.
    const monitor = cluster.services.get('monitor')!.lines;
    assert.ok(monitor.some((l) => l['msg'] === 'batch waits for an outage to pass'), 'the monitor held its reports through the outage');
    assert.ok(!monitor.some((l) => l['msg'] === 'message set aside: it can never be handled'));
    assert.deepEqual(readdirSync(marks).filter((f) => f.startsWith('pg-')).length, names.length);
  });
});
