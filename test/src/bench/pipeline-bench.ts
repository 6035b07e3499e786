// `npm run bench`: independent tasks and chains through the process executor (`true`), every service its own
// process, real NATS and PostgreSQL. Prints tasks/s from first submit to last success, p50/p99 from submit to
// running, and the ledger statements per task (summed from every service's /metrics).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { benchIdentities, roleOf } from '../helpers/identities.js';
import { freePort, startNats } from '../helpers/nats.js';
import { createDatabase } from '../helpers/postgres.js';
import { ROOT, ServiceProcess, type ServiceName } from '../helpers/processes.js';
import { cpuSeconds, machineBusySeconds, percentile, sumStatements, waitHealthy } from './stack.js';

export interface BenchOptions {
  independent: number;
  chains: number;
  chainLength: number;
  agents: number;
  slots: number;
  timeoutMs: number;
}

export interface BenchResult {
  tasks: number;
  succeeded: number;
  seconds: number;
  tasksPerSecond: number;
  p50RunningMs: number;
  p99RunningMs: number;
  chainSeconds: number;
  /** When the last independent task succeeded, and how many chain steps had succeeded by then. */
  independentSeconds: number;
  chainStepsByThen: number;
  statements: number;
  statementsPerTask: number;
}

const FULL: BenchOptions = { independent: 10000, chains: 10, chainLength: 1000, agents: 2, slots: 256, timeoutMs: 600000 };
const QUICK: BenchOptions = { independent: 300, chains: 2, chainLength: 50, agents: 1, slots: 16, timeoutMs: 120000 };

export let cpu: string[] = [];
export let hops: string[] = [];

/** Median time of each hop along the chains: the dependency's success → ready → placed → running → success. */
function chainHops(times: Map<string, Partial<Record<string, number>>>, submitted: Map<string, number>, group: string): string[] {
  const gaps: Record<string, number[]> = { 'success→ready': [], 'ready→placed': [], 'placed→running': [], 'running→success': [] };
  for (const [name, t] of times) {
    if (!name.startsWith(group)) continue;
    const [, k, i] = name.split('-');
    const prev = group === 'chain-' && Number(i) > 0 ? times.get(`chain-${k}-${Number(i) - 1}`)?.['success'] : submitted.get(name);
    const add = (hop: string, a: number | undefined, b: number | undefined): void => {
      if (a !== undefined && b !== undefined) gaps[hop]!.push(b - a);
    };
    add('success→ready', prev, t['ready']);
    add('ready→placed', t['ready'], t['placed']);
    add('placed→running', t['placed'], t['running']);
    add('running→success', t['running'], t['success']);
  }
  const mean = (l: number[]): number => l.reduce((a, b) => a + b, 0) / Math.max(1, l.length);
  return Object.entries(gaps).map(([hop, list]) => `${group}${hop} p50 ${percentile(list.sort((a, b) => a - b), 50).toFixed(1)} mean ${mean(list).toFixed(1)} ms`);
}

export async function runPipelineBench(opts: BenchOptions): Promise<BenchResult> {
  const hosts = Array.from({ length: opts.agents }, (_, i) => `bench-${i}`);
  const auth = benchIdentities(hosts);
  const nats = await startNats(auth ? { config: auth.serverConfig } : {});
  const db = await createDatabase('bench');
  const procs: { proc: ServiceProcess; port: number }[] = [];
  const base = { NATS_URL: nats.url, DATABASE_URL: db.url, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', HEARTBEAT_INTERVAL: '1' };
  const launch = async (service: ServiceName, env: Record<string, string> = {}): Promise<void> => {
    const port = await freePort();
    const identity = auth?.env(roleOf(service, env['HOST_ID'])) ?? {};
    procs.push({ proc: new ServiceProcess(service, { ...base, ...identity, HEALTH_PORT: String(port), ...env }).start(), port });
  };
  const enc = new TextEncoder();
  const nc = await connect({ servers: nats.url, ...auth?.options({ kind: 'admin' }) });
  try {
    await launch('intake');
    await launch('resolver');
    await launch('placer');
    await launch('monitor');
    // The placer places only on hosts the ledger has up: host-health writes their heartbeats there.
    await launch('host-health');
    await launch('relay');
    for (let i = 0; i < opts.agents; i++) {
      await launch('agent', { HOST_ID: hosts[i]!, HOST_SLOTS: String(opts.slots), AGENT_EXECUTORS: 'process' });
    }
    await waitHealthy(procs);
    await new Promise((r) => setTimeout(r, 1500)); // agents announced, placer has its view, host-health wrote the hosts

    const submitted = new Map<string, number>();
    const running = new Map<string, number>();
    const succeeded = new Map<string, number>();
    const total = opts.independent + opts.chains * opts.chainLength;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => { resolveDone = r; });
    // Only the events the figures need: the bench's own deliveries weigh on the NATS server it measures (every event
    // of 20,000 tasks is 80,000 messages more). BENCH_HOPS=1 takes them all, for the time of each hop.
    const chainTimes = new Map<string, Partial<Record<string, number>>>();
    let failures = 0;
    const watched = process.env['BENCH_HOPS'] === '1' ? ['tasks.events.>'] : ['running', 'success', 'failed'].map((s) => `tasks.events.*.${s}`);
    for (const subject of watched) {
      nc.subscribe(subject, {
        callback: (_e, m) => {
          const now = performance.now();
          const [, , name, state] = m.subject.split('.') as [string, string, string, string];
          const times = chainTimes.get(name) ?? {};
          times[state] ??= now;
          chainTimes.set(name, times);
          if (state === 'running') running.set(name, now);
          else if (state === 'failed') failures += 1;
          else if (state === 'success') {
            succeeded.set(name, now);
            if (succeeded.size >= total) resolveDone();
          }
        },
      });
    }
    nc.subscribe('tasks.rejected', { callback: (_e, m) => { process.stderr.write(`rejected: ${new TextDecoder().decode(m.data)}\n`); } });
    await nc.flush();

    const submit = (spec: Record<string, unknown>): void => {
      submitted.set(spec['name'] as string, performance.now());
      nc.publish('tasks.submit', enc.encode(JSON.stringify(spec)));
    };
    const busyBefore = machineBusySeconds();
    const start = performance.now();
    // Chains first, so their long tail starts at once; then the independent tasks, interleaved in small bursts.
    for (let k = 0; k < opts.chains; k++) {
      for (let i = 0; i < opts.chainLength; i++) {
        submit({ name: `chain-${k}-${i}`, executor: 'process', command: ['true'], ...(i > 0 ? { dependencies: [`chain-${k}-${i - 1}`] } : {}) });
      }
    }
    // BENCH_RATE (tasks/s) paces the independent tasks: below saturation, each process's CPU per task and its
    // profile are not blurred by waiting for a core.
    const rate = Number(process.env['BENCH_RATE'] ?? 0);
    for (let i = 0; i < opts.independent; i++) {
      submit({ name: `task-${i}`, executor: 'process', command: ['true'] });
      if (i % 500 === 499) await nc.flush();
      if (rate > 0 && i % 50 === 49) {
        const due = start + ((i + 1) / rate) * 1000;
        if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
      }
    }
    await nc.flush();
    const timer = setTimeout(resolveDone, opts.timeoutMs);
    await done;
    clearTimeout(timer);
    const end = Math.max(...succeeded.values());
    const independentLatencies = [...running.entries()].filter(([n]) => n.startsWith('task-'))
      .map(([name, t]) => t - (submitted.get(name) ?? t)).sort((a, b) => a - b);
    const chainEnds = [...succeeded.entries()].filter(([n]) => n.startsWith('chain-')).map(([, t]) => t);
    const independentEnd = Math.max(start, ...[...succeeded.entries()].filter(([n]) => n.startsWith('task-')).map(([, t]) => t));
    hops = process.env['BENCH_HOPS'] === '1' ? [...chainHops(chainTimes, submitted, 'chain-'), ...chainHops(chainTimes, submitted, 'task-')] : [];
    const statements = await sumStatements(procs.map((p) => p.port));
    cpu = [`machine ${(machineBusySeconds() - busyBefore).toFixed(1)} s busy`, `bench client ${cpuSeconds(process.pid).toFixed(1)} s`, `nats-server ${cpuSeconds(nats.pid).toFixed(1)} s`, ...procs.map(({ proc }) => `${proc.service}${proc.env['HOST_ID'] ? `(${proc.env['HOST_ID']})` : ''} ${cpuSeconds(proc.child?.pid).toFixed(1)} s`)];
    if (failures > 0) process.stderr.write(`${failures} tasks failed\n`);
    const seconds = (end - start) / 1000;
    return {
      tasks: total,
      succeeded: succeeded.size,
      seconds,
      tasksPerSecond: succeeded.size / seconds,
      p50RunningMs: percentile(independentLatencies, 50),
      p99RunningMs: percentile(independentLatencies, 99),
      chainSeconds: chainEnds.length > 0 ? (Math.max(...chainEnds) - start) / 1000 : 0,
      independentSeconds: (independentEnd - start) / 1000,
      chainStepsByThen: chainEnds.filter((t) => t <= independentEnd).length,
      statements,
      statementsPerTask: statements / Math.max(1, succeeded.size),
    };
  } finally {
    await nc.close();
    for (const { proc } of procs) await proc.stop();
    await nats.stop();
    auth?.remove();
    await db.drop().catch(() => undefined);
  }
}

export function formatResult(r: BenchResult, opts: BenchOptions): string {
  return [
    `| figure | value |`,
    `|---|---|`,
    `| tasks (independent + chains) | ${r.tasks} (${opts.independent} + ${opts.chains}×${opts.chainLength}) |`,
    `| succeeded | ${r.succeeded} |`,
    `| submit → last success | ${r.seconds.toFixed(2)} s |`,
    `| throughput, submit → success | ${r.tasksPerSecond.toFixed(0)} tasks/s |`,
    `| submit → running, p50 / p99 (independent tasks) | ${r.p50RunningMs.toFixed(0)} ms / ${r.p99RunningMs.toFixed(0)} ms |`,
    `| chains done after | ${r.chainSeconds.toFixed(2)} s |`,
    `| independent tasks done after | ${r.independentSeconds.toFixed(2)} s (${r.chainStepsByThen} chain steps done by then) |`,
    `| ledger statements per task | ${r.statementsPerTask.toFixed(2)} (${r.statements} in all) |`,
  ].join('\n');
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const quick = process.argv.includes('--quick');
  const opts = { ...(quick ? QUICK : FULL) };
  // BENCH_INDEPENDENT=20000 BENCH_CHAINS=0 … narrows a run down while profiling.
  for (const key of ['independent', 'chains', 'chainLength', 'agents', 'slots'] as const) {
    const v = process.env[`BENCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
    if (v !== undefined) opts[key] = Number(v);
  }
  const result = await runPipelineBench(opts);
  const table = formatResult(result, opts);
  const dir = path.join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `pipeline-${quick ? 'quick' : 'full'}.md`);
  writeFileSync(file, `# Pipeline benchmark\n\n${table}\n`);
  writeFileSync(file.replace(/\.md$/, '.json'), JSON.stringify({ options: opts, result }, null, 2));
  console.log(`\n${table}\n\n${hops.length > 0 ? `hops:\n${hops.join('\n')}\n` : ''}CPU per process: ${cpu.join(', ')}\nreport: ${file}`);
  process.exit(result.succeeded === result.tasks ? 0 : 1);
}
