import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureStreams } from '@tangerine/bus';
import { Streams, Subjects, parseTaskSpec, type HostAnnounce, type RunExited, type RunStarted } from '@tangerine/contracts';
import { migrate, openLedger, placeTasks, submitTasks, type Ledger } from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { healthPort, scrape, value } from '../helpers/metrics.js';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { createDatabase } from '../helpers/postgres.js';
import { ServiceProcess } from '../helpers/processes.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const enc = new TextEncoder();
const BOOT = '2026-01-01T00:00:00.000Z';

/**
 * Reports and announcements bound to their host, with the monitor, host-health and the placer as processes: a
 * running task on h1 gets forged reports (from h2's subjects, and with a payload naming another host than the
 * subject) and forged announcements (h1's id with a new boot, a fake host with many slots), each sent twice. None
 * changes the ledger; each is a "refused forged …" line and a count; the genuine reports still move the task.
 */
describe('forged reports and announcements', () => {
  let nats: NatsServer;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  let nc: NatsConnection;
  let js: JetStreamClient;
  const procs = new Map<'monitor' | 'host-health' | 'placer', ServiceProcess>();
  const ports = new Map<string, number>();
  const deadLetters: string[] = [];
  let sent = 0;

  const monitor = () => procs.get('monitor')!;
  const task = async (name: string) => (await ledger.query<{ state: string; attempt: number; host: string; version: string; failures: number }>(
    'SELECT state, attempt, host, version, failures FROM tasks WHERE name = $1', [name]))[0];
  const run = async (name: string, attempt: number) => (await ledger.query<{ host: string; started_at: Date | null; finished_at: Date | null; exit_code: number | null }>(
    'SELECT host, started_at, finished_at, exit_code FROM runs WHERE task = $1 AND attempt = $2', [name, attempt]))[0];
  /** A report on the reports stream, under a dedupe id of its own: each send is one more delivery to the monitor. */
  const report = async (subject: string, payload: RunStarted | RunExited) => {
    await js.publish(subject, enc.encode(JSON.stringify(payload)), { msgID: `test-${++sent}` });
  };
  const refusals = (p: ServiceProcess, msg: string) => p.lines.filter((l) => l['msg'] === msg);

  before(async () => {
    nats = await startNats();
    db = await createDatabase('forged_reports');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
    await ledger.query(
      `INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen, boot)
       VALUES ('h1', '{}', 1, '{process}', 2, 1024, now(), $1), ('h2', '{}', 1, '{process}', 2, 1024, now(), NULL)`,
      [BOOT],
    );
    await submitTasks(ledger, [{ seq: 1, spec: parseTaskSpec({ name: 'target', executor: 'process', command: ['true'] }) }], new Date());
    assert.equal((await placeTasks(ledger, [{ name: 'target', attempt: 0, host: 'h1' }])).length, 1);
    nc = await connect({ servers: nats.url });
    nc.subscribe(Subjects.deadLetters.wildcard, { callback: (_e, m) => { deadLetters.push(m.subject); } });
    const env = { NATS_URL: nats.url, DATABASE_URL: db.url, HEALTH_PORT: '0', HOST_TIMEOUT: '600', PRUNE_INTERVAL: '0' };
    for (const name of ['monitor', 'host-health', 'placer'] as const) procs.set(name, new ServiceProcess(name, env).start());
    // The health endpoint comes up once the service has started: its subscriptions are open.
    for (const [name, p] of procs) ports.set(name, await healthPort(p));
    js = jetstream(nc);
  });
  after(async () => {
    for (const p of procs.values()) await p.stop();
    await nc?.close();
    await ledger?.close();
    await nats?.stop();
    await db?.drop();
  });

  it('refuses forged start reports; the genuine one starts the run', async () => {
    const before = await task('target');
    assert.equal(before?.state, 'placed');
    const started = (host: string): RunStarted => ({ name: 'target', attempt: 1, host, run_id: 'pid:666', at: new Date().toISOString() });
    for (let i = 0; i < 2; i++) {
      await report(Subjects.runStarted.make('h2'), started('h2')); // another host's report
      await report(Subjects.runStarted.make('h2'), started('h1')); // from h2, claiming to be h1
      await report(Subjects.runStarted.make('h1'), started('h2')); // on h1's subject, naming h2
    }
    await waitUntil('six refusals', () => refusals(monitor(), 'refused forged report').length === 6);
    const lines = refusals(monitor(), 'refused forged report');
    assert.ok(lines.every((l) => l['task'] === 'target' && l['attempt'] === 1 && l['host'] === 'h1' && l['kind'] === 'started' && l['level'] === 40));
    assert.deepEqual(lines.map((l) => l['from']).sort(), ['h1', 'h1', 'h2', 'h2', 'h2', 'h2']);
    assert.deepEqual(await task('target'), before, 'the task unchanged');
    assert.equal((await run('target', 1))?.started_at, null, 'the run unchanged');

    await report(Subjects.runStarted.make('h1'), started('h1'));
    await waitUntil('target running', async () => (await task('target'))?.state === 'running');
    assert.equal(refusals(monitor(), 'refused forged report').length, 6);
  });

  it('refuses forged announcements: no fake host takes work, and h1 under a new boot requeues nothing', async () => {
    const announce = (host: string, extra: Partial<HostAnnounce> = {}): HostAnnounce => ({
      host, labels: {}, slots: 1, executors: ['process'], cpu: 2, memory: 1024, running: [], at: new Date().toISOString(), ...extra,
    });
    const forgedAt = new Date();
    for (let i = 0; i < 2; i++) {
      // h1's id with a new boot and none of its runs: taken for real, it would requeue `target` (run_lost).
      nc.publish(Subjects.hostAnnounce.make('h2'), enc.encode(JSON.stringify(announce('h1', { boot: new Date(Date.now() + 60_000).toISOString() }))));
      // A host no one runs, with room for everything: taken for real, it would be given the next tasks.
      nc.publish(Subjects.hostAnnounce.make('h2'), enc.encode(JSON.stringify(announce('fake', { slots: 1000, cpu: 64, memory: 65536 }))));
    }
    for (const name of ['host-health', 'placer'] as const) {
      const p = procs.get(name)!;
      await waitUntil(`${name}: four refusals`, () => refusals(p, 'refused forged announcement').length === 4);
      const lines = refusals(p, 'refused forged announcement');
      assert.ok(lines.every((l) => l['from'] === 'h2' && l['level'] === 40), name);
      assert.deepEqual(lines.map((l) => l['host']).sort(), ['fake', 'fake', 'h1', 'h1'], name);
    }
    // h2's own announcement, after the forged ones: once it is in the ledger, so would they be.
    nc.publish(Subjects.hostAnnounce.make('h2'), enc.encode(JSON.stringify(announce('h2'))));
    await waitUntil('h2 heard from', async () => {
      const [h2] = await ledger.query<{ last_seen: Date }>("SELECT last_seen FROM hosts WHERE id = 'h2'");
      return h2!.last_seen.getTime() >= forgedAt.getTime();
    });
    const hosts = await ledger.query<{ id: string; boot: string | null }>('SELECT id, boot FROM hosts ORDER BY id');
    assert.deepEqual(hosts, [{ id: 'h1', boot: BOOT }, { id: 'h2', boot: null }], 'no fake host, h1 on its own boot');
    const target = await task('target');
    assert.deepEqual([target?.state, target?.attempt, target?.host], ['running', 1, 'h1'], 'h1\'s run not requeued');

    // h1's one slot is taken, h2 has one: of two new tasks, one goes to h2 and the other waits (a fake host would take it).
    await submitTasks(ledger, ['next-1', 'next-2'].map((name, i) => ({ seq: 10 + i, spec: parseTaskSpec({ name, executor: 'process', command: ['true'] }) })), new Date());
    const placed = await waitFor('a new task placed', async () => {
      const rows = await ledger.query<{ name: string; host: string }>("SELECT name, host FROM tasks WHERE name LIKE 'next-%' AND state = 'placed'");
      return rows.length > 0 ? rows : undefined;
    });
    assert.deepEqual(placed.map((r) => r.host), ['h2']);
    const [waiting] = await ledger.query<{ state: string }>("SELECT state FROM tasks WHERE name LIKE 'next-%' AND name <> $1", [placed[0]!.name]);
    assert.equal(waiting?.state, 'ready');

    for (const name of ['host-health', 'placer']) {
      const text = await scrape(ports.get(name)!);
      assert.equal(value(text, 'tangerine_forged_reports_total', { service: name, kind: 'announce' }), 4, name);
    }
  });

  it('refuses forged exit reports, lost or not, each acked once and no dead letter; the genuine exit counts', async () => {
    const before = await task('target');
    assert.equal(before?.state, 'running');
    const exited = (host: string, extra: Partial<RunExited> = {}): RunExited => ({
      name: 'target', attempt: 1, host, exit_code: 0, reason: null, output: 'forged', started_at: null, finished_at: new Date().toISOString(), ...extra,
    });
    for (let i = 0; i < 2; i++) {
      await report(Subjects.runExited.make('h2'), exited('h2'));
      await report(Subjects.runExited.make('h2'), exited('h1'));
      await report(Subjects.runExited.make('h1'), exited('h2'));
      await report(Subjects.runExited.make('h2'), exited('h2', { exit_code: null, reason: 'run_lost: forged', lost: true }));
    }
    await waitUntil('eight more refusals', () => refusals(monitor(), 'refused forged report').length === 14);
    const lines = refusals(monitor(), 'refused forged report').slice(6);
    assert.ok(lines.every((l) => l['task'] === 'target' && l['attempt'] === 1 && l['host'] === 'h1' && l['kind'] === 'exited'));
    assert.deepEqual(lines.map((l) => l['from']).sort(), ['h1', 'h1', 'h2', 'h2', 'h2', 'h2', 'h2', 'h2']);
    assert.deepEqual(await task('target'), before, 'the task unchanged');
    const r = await run('target', 1);
    assert.deepEqual([r?.finished_at, r?.exit_code], [null, null], 'the run unchanged');

    const consumer = await (await jetstreamManager(nc)).consumers.info(Streams.reports.name, 'monitor');
    assert.deepEqual([consumer.num_ack_pending, consumer.num_redelivered, consumer.num_pending], [0, 0, 0], 'every report acked at its first delivery');
    assert.deepEqual(deadLetters, []);
    const text = await scrape(ports.get('monitor')!);
    assert.equal(value(text, 'tangerine_forged_reports_total', { service: 'monitor', kind: 'started' }), 6);
    assert.equal(value(text, 'tangerine_forged_reports_total', { service: 'monitor', kind: 'exited' }), 8);

    await report(Subjects.runExited.make('h1'), exited('h1', { output: 'genuine' }));
    await waitUntil('target success', async () => (await task('target'))?.state === 'success');
    assert.equal((await run('target', 1))?.exit_code, 0);
  });
});

/**
 * An agent as a process (process executor): a dispatch or a stop on its own subject whose payload names another host
 * is ignored, acked, with a warning; the genuine ones still run and stop.
 */
describe('an agent and forged dispatches and stops', () => {
  const HOST = 'forge-ag1';
  let nats: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let agent: ServiceProcess;
  const reports: { subject: string; name: string; exit_code?: number | null; reason?: string | null }[] = [];
  let sent = 0;

  const send = async (subject: string, payload: unknown) => {
    await js.publish(subject, enc.encode(JSON.stringify(payload)), { msgID: `test-${++sent}` });
  };
  const dispatch = (name: string, host: string, command: string[]) =>
    ({ name, attempt: 1, host, spec: parseTaskSpec({ name, executor: 'process', command }) });
  const exitOf = (name: string) => reports.find((r) => r.name === name && Subjects.runExited.match(r.subject) !== null);

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    // An agent waits for the streams a service provisions.
    await ensureStreams(await jetstreamManager(nc));
    nc.subscribe(Subjects.runExited.wildcard, { callback: (_e, m) => { reports.push({ subject: m.subject, ...(m.json() as { name: string }) }); } });
    nc.subscribe(Subjects.runStarted.wildcard, { callback: (_e, m) => { reports.push({ subject: m.subject, ...(m.json() as { name: string }) }); } });
    agent = new ServiceProcess('agent', { NATS_URL: nats.url, HOST_ID: HOST, AGENT_EXECUTORS: 'process', HOST_SLOTS: '2', STOP_GRACE: '1' }).start();
    await agent.waitForLine((l) => l['msg'] === 'agent ready', 30_000);
    js = jetstream(nc);
  });
  after(async () => {
    await agent?.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('ignores a dispatch naming another host, twice; a genuine one runs and reports on its host\'s subject', async () => {
    for (let i = 0; i < 2; i++) await send(Subjects.agentRun.make(HOST), dispatch('forged', 'h-other', ['true']));
    await waitUntil('two refusals', () => agent.lines.filter((l) => l['msg'] === 'refused forged dispatch: it names another host').length === 2);
    const line = agent.lines.find((l) => l['msg'] === 'refused forged dispatch: it names another host')!;
    assert.deepEqual([line['task'], line['attempt'], line['host'], line['to'], line['level']], ['forged', 1, HOST, 'h-other', 40]);

    await send(Subjects.agentRun.make(HOST), dispatch('genuine', HOST, ['true']));
    const exit = await waitFor('the genuine run\'s exit', () => exitOf('genuine'));
    assert.deepEqual([exit.subject, exit.exit_code], [Subjects.runExited.make(HOST), 0]);
    assert.deepEqual(reports.filter((r) => r.name === 'forged'), [], 'the forged dispatch never ran');
  });

  it('ignores a stop naming another host; the genuine stop ends the run', async () => {
    await send(Subjects.agentRun.make(HOST), dispatch('sleeper', HOST, ['sleep', '60']));
    await waitFor('the sleeper started', () => reports.find((r) => r.name === 'sleeper'));
    await send(Subjects.agentStop.make(HOST), { name: 'sleeper', attempt: 1, host: 'h-other', reason: 'forged' });
    await waitUntil('the refused stop', () => agent.lines.some((l) => l['msg'] === 'refused forged stop: it names another host' && l['task'] === 'sleeper'));
    assert.equal(exitOf('sleeper'), undefined, 'still running');
    assert.ok(!agent.lines.some((l) => l['msg'] === 'stopping run' && l['task'] === 'sleeper'));

    await send(Subjects.agentStop.make(HOST), { name: 'sleeper', attempt: 1, host: HOST, reason: 'cancelled' });
    const exit = await waitFor('the sleeper\'s exit', () => exitOf('sleeper'));
    assert.equal(exit.subject, Subjects.runExited.make(HOST));
    const consumer = await (await jetstreamManager(nc)).consumers.info(Streams.dispatch.name, `agent-${HOST}`);
    assert.equal(consumer.num_redelivered, 0, 'every dispatch and stop acked at its first delivery');
  });
});
