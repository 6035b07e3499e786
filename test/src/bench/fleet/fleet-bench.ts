// The fleet benchmark (issue 5): a simulated fleet of 10,000 hosts (./simulator.ts, one process) and the services
// that place work on it, each its own process, with real NATS and PostgreSQL. It queues many tasks with label
// constraints and measures placements/s, ready → placed latency, ledger statements per placement and the peak RSS
// of every process.
//
//   node test/dist/bench/fleet/fleet-bench.js [--quick] [--tasks 100000] [--hosts 10000] [--slots 4] [--run-ms 1000]
//                                              [--sizes 10000,100000,500000] [--live] [--steady-rate 1000]
//
// Two phases:
// 1. Bulk ("queued"): every task is submitted at once (pipelined JetStream publishes) and intake makes them all
//    `ready` before the placer starts, so the placer meets the whole queue at once and its own rate is measured, not
//    intake's. Placements/s is the placed events over the placement phase (first to last placed event). With N tasks
//    queued at once, a task's wait is mostly its place in the queue (≈ position / rate), so the p50/p99 of this
//    phase measure queueing: they are reported as "queue wait", from the later of the task's `ready` and the
//    placer's start to its `placed` event. `--live` starts the placer first instead (the waits then include intake).
// 2. Steady: tasks submitted at a set rate (default 1,000/s, half the goal) into the running fleet, which is busy
//    but not saturated. Their p50/p99 from `ready` to `placed` (both events' `at`, the ledger's clock) is the
//    placement latency of the issue's goal.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import pg from 'pg';
import { freePort, startNats } from '../../helpers/nats.js';
import { createDatabase } from '../../helpers/postgres.js';
import { ROOT, ServiceProcess, type ServiceName } from '../../helpers/processes.js';
import { machineBusySeconds, percentile, procStatusMb, statementsOf, waitHealthy } from '../stack.js';
import type { SimulatorStats } from './simulator.js';

export interface FleetOptions {
  hosts: number;
  tasks: number;
  slotsPerHost: number;
  runMs: number;
  quick?: boolean;
  /** Start the placer before submitting (tasks are placed as intake makes them ready). Default: after. */
  live?: boolean;
  /** Steady phase: tasks per second and for how long; 0 skips it. */
  steadyRate?: number;
  steadySeconds?: number;
  heartbeatSeconds?: number;
  /** Give up on a phase after this long. */
  phaseTimeoutMs?: number;
  /** Read the costliest statements from pg_stat_statements at the end. */
  pgStatements?: boolean;
}

export interface ProcessFigures {
  peakRssMb: number;
  cpuSeconds: number;
  statements: number;
}

export interface SteadyResult {
  rate: number;
  tasks: number;
  placed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Submit (the bench's publish) → placed event received, for comparison. */
  p99SubmitToPlacedMs: number;
  statementsPerPlacement: number;
}

export interface FleetResult {
  hosts: number;
  tasks: number;
  slotsPerHost: number;
  runMs: number;
  mode: 'queued' | 'live';
  placed: number;
  succeeded: number;
  /** Submit start → every task ready (intake). */
  intakeSeconds: number;
  intakePerSecond: number;
  /** First → last placed event received. */
  placementSeconds: number;
  placementsPerSecond: number;
  /**
   * Bulk phase, ready → placed: from the later of the task's `ready` event and the first placement (the placer's
   * own start-up is not counted) to its `placed` event, both events' `at`. With the whole queue there at once this
   * is queueing (≈ position / rate), not the latency of one placement: see `steadyP99PlacementMs`.
   */
  p50PlacementMs: number;
  p99PlacementMs: number;
  /** Steady phase, ready → placed: a task submitted into a busy fleet that is not saturated (NaN if skipped). */
  steadyP50PlacementMs: number;
  steadyP99PlacementMs: number;
  steady: SteadyResult | null;
  /** Every service's ledger statements at the end of the bulk phase. */
  statements: number;
  statementsPerPlacement: number;
  /** Statements made during the placement phase only (intake's excluded), per placement. */
  placementPhaseStatementsPerPlacement: number;
  processes: Record<string, ProcessFigures>;
  /** CPU seconds each process (and PostgreSQL, and the machine as a whole) spent during the placement phase. */
  placementCpuSeconds: Record<string, number>;
  /** Peak RSS (VmHWM, MiB) of every service, the simulator and nats-server. */
  peakRssMb: Record<string, number>;
  /** Submit start → last success of the bulk phase. */
  bulkSeconds: number;
  /** The same: the time that grows with the number of tasks. */
  seconds: number;
  /** The whole run, set-up and teardown included. */
  totalSeconds: number;
  fleet: SimulatorStats | null;
  pgTop?: { calls: number; total_ms: number; mean_ms: number; rows: number; query: string }[];
  /** FLEET_RSS_TRACE=1: each process's RSS (MiB) every second, with the phase. */
  rssTrace?: { s: number; phase: string; rss: Record<string, number> }[];
  complete: boolean;
}

const DEFAULTS = { hosts: 10000, tasks: 100000, slotsPerHost: 4, runMs: 1000 };
const QUICK = { hosts: 200, tasks: 2000, slotsPerHost: 4, runMs: 1000, steadyRate: 200, steadySeconds: 3 };

/** CPU seconds of every PostgreSQL process on the machine (the server is shared: other databases count too). */
function postgresCpuSeconds(): number {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.split(') ')[1]!.split(' ');
      sum += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      process.stderr.write(`fleet bench: gave up waiting for ${what} after ${timeoutMs} ms\n`);
      return false;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

/** The simulator as its own process, so that its memory is measured apart. */
class SimulatorProcess {
  child: ChildProcess | null = null;
  stats: SimulatorStats | null = null;
  ready = false;
  private partial = '';

  constructor(private readonly env: Record<string, string>) {}

  start(): this {
    const main = path.join(ROOT, 'test', 'dist', 'bench', 'fleet', 'simulator.js');
    const nodeArgs = (process.env['TANGERINE_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    this.child = spawn(process.execPath, [...nodeArgs, main], { env: { PATH: process.env['PATH'] ?? '', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (this.partial + chunk.toString()).split('\n');
      this.partial = parts.pop() ?? '';
      for (const p of parts) {
        try {
          const line = JSON.parse(p) as SimulatorStats & { type: string };
          if (line.type === 'ready') this.ready = true;
          this.stats = line;
        } catch {
          process.stderr.write(`[simulator] ${p}\n`);
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[simulator] ${chunk.toString()}`));
    return this;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }
}

interface Track {
  ready: number;
  placed: number;
  placedSeen: number;
  submitted: number;
}

export async function runFleetBench(options: FleetOptions): Promise<FleetResult> {
  const opts = { ...(options.quick ? QUICK : {}), ...options };
  const heartbeatS = opts.heartbeatSeconds ?? 2;
  const phaseTimeoutMs = opts.phaseTimeoutMs ?? Math.max(120_000, opts.tasks * 3);
  const steadyRate = opts.steadyRate ?? (opts.quick ? 200 : 1000);
  const steadySeconds = opts.steadySeconds ?? (opts.quick ? 3 : 10);
  const t0 = performance.now();
  const nats = await startNats();
  const db = await createDatabase('fleet');
  const services: { proc: ServiceProcess; port: number }[] = [];
  // NODE_OPTIONS as deploy/docker-stack.yml sets it for every service: the services run as deployed.
  const base = {
    NATS_URL: nats.url, DATABASE_URL: db.url, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', HEARTBEAT_INTERVAL: String(heartbeatS),
    NODE_OPTIONS: process.env['FLEET_NODE_OPTIONS'] ?? '--max-old-space-size=128',
  };
  const launch = async (service: ServiceName): Promise<{ proc: ServiceProcess; port: number }> => {
    const port = await freePort();
    // FLEET_NODE_ARGS_PLACER="--trace-gc" (and so on) gives node flags to one service only, FLEET_LOG_LEVEL_PLACER its log level.
    const key = service.replace('-', '_').toUpperCase();
    const shared = process.env['TANGERINE_NODE_ARGS'];
    const own = process.env[`FLEET_NODE_ARGS_${key}`];
    if (own !== undefined) process.env['TANGERINE_NODE_ARGS'] = own;
    const level = process.env[`FLEET_LOG_LEVEL_${key}`];
    const proc = new ServiceProcess(service, { ...base, HEALTH_PORT: String(port), ...(level ? { LOG_LEVEL: level } : {}) }).start();
    if (shared === undefined) delete process.env['TANGERINE_NODE_ARGS'];
    else process.env['TANGERINE_NODE_ARGS'] = shared;
    const entry = { proc, port };
    services.push(entry);
    return entry;
  };
  const sim = new SimulatorProcess({
    FLEET_NATS_URL: nats.url, FLEET_HOSTS: String(opts.hosts), FLEET_SLOTS: String(opts.slotsPerHost), FLEET_RUN_MS: String(opts.runMs),
    HEARTBEAT_INTERVAL: String(heartbeatS),
  });
  const admin = new pg.Client({ connectionString: db.url });
  let nc: NatsConnection | null = null;
  const dec = new TextDecoder();
  const tracks = new Map<string, Track>();
  const track = (name: string): Track => {
    let t = tracks.get(name);
    if (!t) {
      t = { ready: NaN, placed: NaN, placedSeen: NaN, submitted: NaN };
      tracks.set(name, t);
    }
    return t;
  };
  let readyCount = 0;
  let placedCount = 0;
  let successCount = 0;
  let rejected = 0;
  let firstPlacedSeen = Infinity;
  let lastPlacedSeen = 0;
  let phase = 'start';
  const rssTrace: NonNullable<FleetResult['rssTrace']> = [];
  const pids = (): Record<string, number | undefined> => ({
    ...Object.fromEntries(services.map((s) => [s.proc.service, s.proc.child?.pid])), simulator: sim.child?.pid, 'nats-server': nats.pid, bench: process.pid,
  });
  const cpuSnapshot = (): Record<string, number> => ({
    ...Object.fromEntries(Object.entries(pids()).map(([n, pid]) => [n, cpuSeconds(pid)])), postgres: postgresCpuSeconds(), machine: machineBusySeconds(),
  });
  const cpuSince = (before: Record<string, number>): Record<string, number> => {
    const now = cpuSnapshot();
    return Object.fromEntries(Object.entries(now).map(([n, v]) => [n, Number((v - (before[n] ?? 0)).toFixed(2))]));
  };
  const sampler = process.env['FLEET_RSS_TRACE'] === '1'
    ? setInterval(() => {
      const rss: Record<string, number> = {};
      for (const s of services) rss[s.proc.service] = Math.round(procStatusMb(s.proc.child?.pid, 'VmRSS'));
      rss['simulator'] = Math.round(procStatusMb(sim.child?.pid, 'VmRSS'));
      rssTrace.push({ s: Math.round((performance.now() - t0) / 1000), phase, rss });
    }, 1000)
    : null;
  try {
    await admin.connect();
    if (opts.pgStatements) {
      await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => undefined);
      await admin.query('SELECT pg_stat_statements_reset()').catch(() => undefined);
    }
    await launch('intake');
    await launch('resolver');
    await launch('monitor');
    await launch('host-health');
    await launch('relay');
    if (opts.live) await launch('placer');
    await waitHealthy(services);
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
    const js = jetstream(nc);
    sim.start();
    await waitFor('the simulator', () => sim.ready, 120_000);
    // Every host recorded by host-health (one statement per heartbeat interval).
    await waitFor('host-health to record every host', async () => {
      const r = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM hosts WHERE state = 'up'`);
      return Number(r.rows[0]!.n) >= opts.hosts;
    }, 60_000, 250);

    nc.subscribe('tasks.events.*.ready', {
      callback: (_e, m) => {
        const t = track(m.subject.split('.')[2]!);
        if (Number.isNaN(t.ready)) {
          t.ready = Date.parse((JSON.parse(dec.decode(m.data)) as { at: string }).at);
          readyCount += 1;
        }
      },
    });
    nc.subscribe('tasks.events.*.placed', {
      callback: (_e, m) => {
        const t = track(m.subject.split('.')[2]!);
        if (Number.isNaN(t.placed)) {
          const now = performance.now();
          t.placed = Date.parse((JSON.parse(dec.decode(m.data)) as { at: string }).at);
          t.placedSeen = now;
          placedCount += 1;
          firstPlacedSeen = Math.min(firstPlacedSeen, now);
          lastPlacedSeen = now;
        }
      },
    });
    nc.subscribe('tasks.events.*.success', { callback: () => { successCount += 1; } });
    nc.subscribe('tasks.rejected', {
      callback: (_e, m) => {
        rejected += 1;
        if (rejected <= 5) process.stderr.write(`rejected: ${dec.decode(m.data)}\n`);
      },
    });
    await nc.flush();

    // --- bulk phase ---------------------------------------------------------------------------------------------
    phase = 'intake';
    const bulkStart = performance.now();
    const bulkStartWall = Date.now();
    await submitAll(js, opts.tasks, (i) => bulkSpec(i), (name) => { track(name).submitted = performance.now(); });
    progress(`submitted ${opts.tasks} tasks in ${((performance.now() - bulkStart) / 1000).toFixed(1)} s`);
    const allReady = await waitFor('every task ready', () => readyCount >= opts.tasks, phaseTimeoutMs, 100);
    const intakeSeconds = (performance.now() - bulkStart) / 1000;
    progress(`${readyCount} ready after ${intakeSeconds.toFixed(1)} s`);
    phase = 'placement';
    const cpuBefore = cpuSnapshot();
    const statementsBefore = await sumStatements(services);
    let placer = services.find((s) => s.proc.service === 'placer');
    if (!placer) {
      placer = await launch('placer');
      await waitHealthy([placer]);
    }
    const allPlaced = await waitFor('every task placed', () => placedCount >= opts.tasks, phaseTimeoutMs, 100);
    const cpuPlacement = cpuSince(cpuBefore);
    progress(`${placedCount} placed in ${((lastPlacedSeen - firstPlacedSeen) / 1000).toFixed(1)} s`);
    phase = 'runs';
    const allSucceeded = await waitFor('every task succeeded', () => successCount >= opts.tasks, phaseTimeoutMs, 100);
    const bulkSeconds = (performance.now() - bulkStart) / 1000;
    const statementsBulk = await sumStatements(services);
    const placementSeconds = (lastPlacedSeen - firstPlacedSeen) / 1000;
    const bulkPlaced = placedCount;
    const placedBulk = [...tracks.values()].filter((t) => !Number.isNaN(t.placed));
    // The placement phase starts with the first placement (the placer's own start-up is not queueing).
    const phaseStart = opts.live ? bulkStartWall : placedBulk.reduce((m, t) => Math.min(m, t.placed), Infinity);
    const waits = placedBulk.map((t) => t.placed - Math.max(t.ready, phaseStart)).sort((a, b) => a - b);

    // --- steady phase -------------------------------------------------------------------------------------------
    let steady: SteadyResult | null = null;
    if (steadyRate > 0 && steadySeconds > 0 && allSucceeded) {
      phase = 'steady';
      const n = Math.round(steadyRate * steadySeconds);
      const before = await sumStatements(services);
      const placedBefore = placedCount;
      await submitPaced(js, n, steadyRate, (i) => steadySpec(i), (name) => { track(name).submitted = performance.now(); });
      await waitFor('every steady task placed', () => placedCount - placedBefore >= n, 60_000 + n * 10, 50);
      await waitFor('every steady task succeeded', () => successCount >= opts.tasks + n, 60_000 + n * 10, 50);
      const after = await sumStatements(services);
      const mine = [...tracks.entries()].filter(([name, t]) => name.startsWith('steady-') && !Number.isNaN(t.placed)).map(([, t]) => t);
      const lat = mine.map((t) => t.placed - t.ready).sort((a, b) => a - b);
      const seen = mine.map((t) => t.placedSeen - t.submitted).sort((a, b) => a - b);
      steady = {
        rate: steadyRate, tasks: n, placed: mine.length, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), maxMs: lat[lat.length - 1] ?? NaN,
        p99SubmitToPlacedMs: percentile(seen, 99), statementsPerPlacement: (after.total - before.total) / Math.max(1, mine.length),
      };
      progress(`steady: ${mine.length} placed, p50 ${steady.p50Ms} ms, p99 ${steady.p99Ms} ms`);
    }

    const processes: Record<string, ProcessFigures> = {};
    const finalStatements = await sumStatements(services);
    for (const s of services) {
      processes[s.proc.service] = {
        peakRssMb: procStatusMb(s.proc.child?.pid, 'VmHWM'), cpuSeconds: cpuSeconds(s.proc.child?.pid), statements: finalStatements.by[s.proc.service] ?? 0,
      };
    }
    processes['simulator'] = { peakRssMb: procStatusMb(sim.child?.pid, 'VmHWM'), cpuSeconds: cpuSeconds(sim.child?.pid), statements: 0 };
    processes['nats-server'] = { peakRssMb: procStatusMb(nats.pid, 'VmHWM'), cpuSeconds: cpuSeconds(nats.pid), statements: 0 };
    processes['bench'] = { peakRssMb: procStatusMb(process.pid, 'VmHWM'), cpuSeconds: cpuSeconds(process.pid), statements: 0 };

    let pgTop: FleetResult['pgTop'];
    if (opts.pgStatements) {
      const r = await admin.query<{ calls: string; total_ms: number; mean_ms: number; rows: string; query: string }>(
        `SELECT calls, total_exec_time AS total_ms, mean_exec_time AS mean_ms, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
           FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          ORDER BY total_exec_time DESC LIMIT 12`,
      ).catch(() => ({ rows: [] }));
      pgTop = r.rows.map((x) => ({ calls: Number(x.calls), total_ms: Math.round(x.total_ms), mean_ms: Number(x.mean_ms.toFixed(2)), rows: Number(x.rows), query: x.query }));
    }
    await sim.stop();
    return {
      hosts: opts.hosts, tasks: opts.tasks, slotsPerHost: opts.slotsPerHost, runMs: opts.runMs, mode: opts.live ? 'live' : 'queued',
      placed: bulkPlaced, succeeded: Math.min(successCount, opts.tasks),
      intakeSeconds, intakePerSecond: readyCount / intakeSeconds,
      placementSeconds, placementsPerSecond: bulkPlaced / Math.max(0.001, placementSeconds),
      p50PlacementMs: percentile(waits, 50), p99PlacementMs: percentile(waits, 99),
      steadyP50PlacementMs: steady?.p50Ms ?? NaN, steadyP99PlacementMs: steady?.p99Ms ?? NaN,
      steady,
      statements: statementsBulk.total, statementsPerPlacement: statementsBulk.total / Math.max(1, bulkPlaced),
      placementPhaseStatementsPerPlacement: (statementsBulk.total - statementsBefore.total) / Math.max(1, bulkPlaced),
      processes, placementCpuSeconds: cpuPlacement,
      peakRssMb: Object.fromEntries(Object.entries(processes).filter(([n]) => n !== 'bench').map(([n, p]) => [n, Math.round(p.peakRssMb)])),
      bulkSeconds, seconds: bulkSeconds, totalSeconds: (performance.now() - t0) / 1000, fleet: sim.stats, pgTop,
      ...(sampler ? { rssTrace } : {}),
      complete: allReady && allPlaced && allSucceeded && rejected === 0,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await sim.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    for (const { proc } of services) await proc.stop();
    await admin.end().catch(() => undefined);
    await nats.stop();
    await db.drop().catch(() => undefined);
  }
}

/** Every task has a label constraint: a zone (1 host in 10), and for one task in three a size too (1 in 20). */
export function bulkSpec(i: number): Record<string, unknown> {
  const constraints: Record<string, string> = { zone: `z${i % 10}` };
  if (i % 3 === 0) constraints['size'] = i % 2 === 0 ? 'small' : 'large';
  return { name: `fleet-${i}`, executor: 'process', command: ['true'], constraints };
}

function steadySpec(i: number): Record<string, unknown> {
  return { ...bulkSpec(i), name: `steady-${i}` };
}

/** JetStream publishes, pipelined: up to `window` acks outstanding at once. */
async function submitAll(js: JetStreamClient, n: number, spec: (i: number) => Record<string, unknown>, noted: (name: string) => void, window = 4000): Promise<void> {
  const enc = new TextEncoder();
  const inflight = new Set<Promise<PubAck>>();
  for (let i = 0; i < n; i++) {
    const s = spec(i);
    noted(s['name'] as string);
    const p = js.publish('tasks.submit', enc.encode(JSON.stringify(s)), { timeout: 60000 });
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    if (inflight.size >= window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

/** `rate` tasks a second, in bursts every 10 ms. */
async function submitPaced(js: JetStreamClient, n: number, rate: number, spec: (i: number) => Record<string, unknown>, noted: (name: string) => void): Promise<void> {
  const enc = new TextEncoder();
  const acks: Promise<PubAck>[] = [];
  const start = performance.now();
  let i = 0;
  while (i < n) {
    const due = Math.min(n, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; i < due; i++) {
      const s = spec(i);
      noted(s['name'] as string);
      acks.push(js.publish('tasks.submit', enc.encode(JSON.stringify(s)), { timeout: 60000 }));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(acks);
}

async function sumStatements(services: { proc: ServiceProcess; port: number }[]): Promise<{ total: number; by: Record<string, number> }> {
  const by: Record<string, number> = {};
  for (const s of services) by[s.proc.service] = await statementsOf(s.port);
  return { total: Object.values(by).reduce((a, b) => a + b, 0), by };
}

function progress(text: string): void {
  if (process.env['FLEET_QUIET'] !== '1') process.stderr.write(`fleet bench: ${text}\n`);
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export function formatTable(results: readonly FleetResult[]): string {
  const names = ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'simulator'];
  const lines = [
    `| hosts | tasks | placements/s | queue wait p50 / p99 (ms) | steady ready→placed p50 / p99 (ms) | statements / placement | peak RSS MiB (${names.join(', ')}) | time (s) |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const rss = names.map((n) => fmt(r.processes[n]?.peakRssMb ?? NaN)).join(' / ');
    const steady = r.steady ? `${fmt(r.steady.p50Ms)} / ${fmt(r.steady.p99Ms)} (${r.steady.rate}/s)` : '–';
    lines.push(`| ${r.hosts} | ${r.tasks}${r.complete ? '' : ' (incomplete)'} | ${fmt(r.placementsPerSecond)} | ${fmt(r.p50PlacementMs)} / ${fmt(r.p99PlacementMs)} | ${steady} | ${fmt(r.statementsPerPlacement, 3)} | ${rss} | ${fmt(r.bulkSeconds, 1)} |`);
  }
  return lines.join('\n');
}

export function formatDetails(r: FleetResult): string {
  const procs = Object.entries(r.processes).map(([n, p]) => `${n}: ${fmt(p.peakRssMb)} MiB, ${fmt(p.cpuSeconds, 1)} s CPU, ${p.statements} statements`);
  return [
    `${r.hosts} hosts × ${r.slotsPerHost} slots, ${r.tasks} tasks (${r.mode}), runs of ${r.runMs} ms`,
    `intake: ${fmt(r.intakeSeconds, 1)} s (${fmt(r.intakePerSecond)} tasks/s to ready)`,
    `placement: ${r.placed} in ${fmt(r.placementSeconds, 2)} s = ${fmt(r.placementsPerSecond)}/s; queue wait p50 ${fmt(r.p50PlacementMs)} ms, p99 ${fmt(r.p99PlacementMs)} ms`,
    r.steady ? `steady ${r.steady.rate}/s: ${r.steady.placed}/${r.steady.tasks} placed, ready→placed p50 ${fmt(r.steady.p50Ms)} ms, p99 ${fmt(r.steady.p99Ms)} ms, max ${fmt(r.steady.maxMs)} ms; submit→placed p99 ${fmt(r.steady.p99SubmitToPlacedMs)} ms; ${fmt(r.steady.statementsPerPlacement, 2)} statements/placement` : 'steady: skipped',
    `statements: ${r.statements} = ${fmt(r.statementsPerPlacement, 3)}/placement (placement phase alone ${fmt(r.placementPhaseStatementsPerPlacement, 3)})`,
    `bulk ${fmt(r.bulkSeconds, 1)} s, total ${fmt(r.totalSeconds, 1)} s; succeeded ${r.succeeded}; complete: ${r.complete}`,
    `fleet: ${JSON.stringify(r.fleet)}`,
    `CPU s during placement: ${Object.entries(r.placementCpuSeconds).map(([n, v]) => `${n} ${v}`).join(', ')}`,
    ...procs,
    ...(r.rssTrace ?? []).map((x) => `rss ${x.s} s ${x.phase}: ${Object.entries(x.rss).map(([n, v]) => `${n} ${v}`).join(', ')}`),
    ...(r.pgTop ?? []).map((q) => `pg: ${q.calls} calls, ${q.total_ms} ms total, ${q.mean_ms} ms mean, ${q.rows} rows: ${q.query}`),
  ].join('\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const quick = process.argv.includes('--quick');
  const shape = quick ? QUICK : DEFAULTS;
  const sizes = (arg('sizes') ?? arg('tasks') ?? String(shape.tasks)).split(',').map(Number);
  const results: FleetResult[] = [];
  for (const tasks of sizes) {
    const opts: FleetOptions = {
      hosts: Number(arg('hosts') ?? shape.hosts), tasks, slotsPerHost: Number(arg('slots') ?? shape.slotsPerHost),
      runMs: Number(arg('run-ms') ?? shape.runMs), quick, live: process.argv.includes('--live'), pgStatements: process.argv.includes('--pg-statements'),
      ...(arg('steady-rate') !== undefined ? { steadyRate: Number(arg('steady-rate')) } : {}),
      ...(arg('steady-seconds') !== undefined ? { steadySeconds: Number(arg('steady-seconds')) } : {}),
    };
    try {
      const r = await runFleetBench(opts);
      results.push(r);
      console.log(`\n${formatDetails(r)}\n`);
    } catch (err) {
      console.error(`fleet bench at ${tasks} tasks failed: ${(err as Error).stack ?? String(err)}`);
    }
  }
  const table = formatTable(results);
  const dir = path.join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `fleet-${quick ? 'quick' : 'full'}.md`);
  writeFileSync(file, `# Fleet benchmark\n\n${table}\n\n${results.map((r) => formatDetails(r)).join('\n\n')}\n`);
  writeFileSync(file.replace(/\.md$/, '.json'), JSON.stringify(results, null, 2));
  console.log(`${table}\n\nreport: ${file}`);
  process.exit(results.length === sizes.length && results.every((r) => r.complete) ? 0 : 1);
}
