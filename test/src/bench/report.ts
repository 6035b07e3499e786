// `npm run bench [-- --quick] [-- --only=throughput,containers,fleet,dependencies,growth,http,page,notifier,autoscaler]`: Tangerine measured
// beside the peers a user would pick instead, on the same machine in the same run, and at fleet scale. Writes a
// Markdown table and the JSON of every figure to bench-results/, and prints the path. `--quick` runs a small version
// of each (CI runs it so the bench keeps working); its figures are printed, never judged.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDatabase } from '../helpers/postgres.js';
import { ROOT } from '../helpers/processes.js';
import { runFleetBench } from './fleet/fleet-bench.js';
import { runHttpBench, type HttpBenchSizes } from './http-bench.js';
import { runPageBench, type PageBenchSizes } from './page-bench.js';
import { runNotifierBench } from './notifier-bench.js';
import { runAutoscalerBench, type AutoscalerBenchSizes } from './autoscaler-bench.js';
import { runDockerLoop } from './peers/docker-loop.js';
import { runGraphileWorker } from './peers/graphile-worker.js';
import { runPgBoss } from './peers/pg-boss.js';
import type { QueueRun, SubmitMode } from './peers/types.js';
import { percentile } from './stack.js';
import { runContainers, runDependencies, runThroughput } from './tangerine.js';

const IMAGE = 'tangerine-test/busybox:latest';

export interface Sizes {
  jobs: number;
  agents: number;
  slots: number;
  containers: number;
  containerSamples: number;
  fleetHosts: number;
  fleetTasks: number;
  chain: number;
  fanIn: number;
  growth: number[];
  fleetGrowth: number[];
  http: HttpBenchSizes;
  page: PageBenchSizes;
  /** Failed-task events fed to the notifier while Slack rate-limits. */
  notifierEvents: number;
  /** The autoscaler's decision at fleet scale. */
  autoscaler: AutoscalerBenchSizes;
}

export const FULL: Sizes = {
  jobs: 20000, agents: 2, slots: 256, containers: 300, containerSamples: 50, fleetHosts: 10000, fleetTasks: 100000,
  chain: 2000, fanIn: 10000, growth: [2000, 20000, 100000], fleetGrowth: [10000, 100000, 500000],
  http: { submissions: 10000, clients: 16, listTasks: 100000, listSamples: 500, subscribers: 100, eventsPerSecond: 1000, eventSeconds: 10 },
  page: { tasks: 10000, graphNodes: 2000, samples: 5 },
  notifierEvents: 100_000,
  autoscaler: { hosts: 10_000, tasks: 100_000, samples: 20 },
};
export const QUICK: Sizes = {
  jobs: 500, agents: 1, slots: 32, containers: 12, containerSamples: 5, fleetHosts: 200, fleetTasks: 2000,
  chain: 50, fanIn: 300, growth: [200, 500], fleetGrowth: [1000, 2000],
  http: { submissions: 300, clients: 16, listTasks: 2000, listSamples: 50, subscribers: 10, eventsPerSecond: 200, eventSeconds: 2 },
  page: { tasks: 1000, graphNodes: 200, samples: 2 },
  notifierEvents: 2000,
  autoscaler: { hosts: 1000, tasks: 10_000, samples: 5 },
};

export interface Report {
  quick: boolean;
  startedAt: string;
  throughput?: { tangerine: Record<SubmitMode, Awaited<ReturnType<typeof runThroughput>>>; peers: QueueRun[] };
  containers?: {
    tangerine: Awaited<ReturnType<typeof runContainers>>;
    dockerLoop: Awaited<ReturnType<typeof runDockerLoop>>;
    /** The same loop one container at a time: the start latency Tangerine's one-at-a-time samples compare with. */
    dockerOne: Awaited<ReturnType<typeof runDockerLoop>>;
  };
  fleet?: Awaited<ReturnType<typeof runFleetBench>>;
  dependencies?: Awaited<ReturnType<typeof runDependencies>>;
  growth?: { throughput: Awaited<ReturnType<typeof runThroughput>>[]; fleet: Awaited<ReturnType<typeof runFleetBench>>[] };
  http?: Awaited<ReturnType<typeof runHttpBench>>;
  page?: Awaited<ReturnType<typeof runPageBench>>;
  notifier?: Awaited<ReturnType<typeof runNotifierBench>>;
  autoscaler?: ReturnType<typeof runAutoscalerBench>;
}

const PARTS = ['throughput', 'containers', 'fleet', 'dependencies', 'growth', 'http', 'page', 'notifier', 'autoscaler'] as const;
/** Part (2) runs Tangerine's containers and the bare loop's in this many alternating rounds. */
const CONTAINER_ROUNDS = 3;

export async function runReport(opts: { quick: boolean; only?: readonly string[]; log?: (line: string) => void }): Promise<Report> {
  const s = opts.quick ? QUICK : FULL;
  const log = opts.log ?? ((line: string) => console.log(line));
  const want = (part: string) => !opts.only || opts.only.includes(part);
  const timeoutMs = opts.quick ? 180_000 : 900_000;
  const report: Report = { quick: opts.quick, startedAt: new Date().toISOString() };
  const concurrency = s.agents * s.slots;

  if (want('throughput')) {
    log(`(1) throughput: ${s.jobs} jobs, concurrency ${concurrency}`);
    const tangerine = {
      single: await runThroughput({ tasks: s.jobs, mode: 'single', agents: s.agents, slots: s.slots, timeoutMs }),
      batch: await runThroughput({ tasks: s.jobs, mode: 'batch', agents: s.agents, slots: s.slots, timeoutMs }),
    };
    const peers: QueueRun[] = [];
    for (const mode of ['single', 'batch'] as const) {
      for (const run of [runPgBoss, runGraphileWorker]) {
        const db = await createDatabase('peer');
        try {
          peers.push(await run({ databaseUrl: db.url, jobs: s.jobs, concurrency, mode, workerProcesses: s.agents }));
        } finally {
          await db.drop();
        }
      }
    }
    report.throughput = { tangerine, peers };
  }
  if (want('containers')) {
    log(`(2) containers: ${s.containers}, 4 slots`);
    // The bare loop alternates with Tangerine, its rounds of containers with Tangerine's and its one-at-a-time
    // samples with Tangerine's: Docker's own pace drifts over minutes on this machine (its start time by tens of
    // milliseconds, the bare loop's rate by 5–7% between two runs), more than the difference measured.
    const bare: Awaited<ReturnType<typeof runDockerLoop>>[] = [];
    const bareRounds: Awaited<ReturnType<typeof runDockerLoop>>[] = [];
    const tangerine = await runContainers({
      containers: s.containers, slots: 4, image: IMAGE, samples: s.containerSamples, timeoutMs, rounds: CONTAINER_ROUNDS,
      between: async () => { bare.push(await runDockerLoop({ containers: 1, inFlight: 1, image: IMAGE })); },
      betweenRounds: async (n) => { bareRounds.push(await runDockerLoop({ containers: n, inFlight: 4, image: IMAGE })); },
    });
    report.containers = { tangerine, dockerLoop: combineRuns(bareRounds), dockerOne: combineRuns(bare) };
  }
  if (want('fleet')) {
    log(`(3) fleet: ${s.fleetHosts} hosts, ${s.fleetTasks} tasks`);
    report.fleet = await runFleetBench({ hosts: s.fleetHosts, tasks: s.fleetTasks, slotsPerHost: 4, runMs: 1000, quick: opts.quick });
  }
  if (want('dependencies')) {
    log(`(4) dependencies: a chain of ${s.chain}, a fan-in of ${s.fanIn}`);
    report.dependencies = await runDependencies({ chain: s.chain, fanIn: s.fanIn, slots: 256, timeoutMs });
  }
  if (want('growth')) {
    log(`(5) cost growth: throughput at ${s.growth.join(', ')}; fleet at ${s.fleetGrowth.join(', ')}`);
    const throughput = [];
    for (const n of s.growth) throughput.push(await runThroughput({ tasks: n, mode: 'batch', agents: s.agents, slots: s.slots, timeoutMs }));
    const fleet = [];
    for (const n of s.fleetGrowth) {
      try {
        fleet.push(await runFleetBench({ hosts: s.fleetHosts, tasks: n, slotsPerHost: 4, runMs: 1000, quick: opts.quick }));
      } catch (err) {
        log(`fleet at ${n} tasks did not finish: ${(err as Error).message}`);
      }
    }
    report.growth = { throughput, fleet };
  }
  if (want('http')) {
    log(`(6) HTTP API: ${s.http.submissions} submissions from ${s.http.clients} clients, a page at ${s.http.listTasks} tasks, ${s.http.subscribers} event streams`);
    report.http = await runHttpBench(s.http);
  }
  if (want('page')) {
    log(`(7) status page: the tasks page at ${s.page.tasks} tasks, a ${s.page.graphNodes}-node graph, in chromium`);
    report.page = await runPageBench(s.page);
  }
  if (want('notifier')) {
    log(`(8) notifier: ${s.notifierEvents} failed and blocked events fed onto the events stream, Slack rate-limiting`);
    report.notifier = await runNotifierBench({ events: s.notifierEvents, timeoutMs });
  }
  if (want('autoscaler')) {
    log(`(9) autoscaler: one decision at ${s.autoscaler.hosts} hosts and ${s.autoscaler.tasks} queued tasks`);
    report.autoscaler = runAutoscalerBench(s.autoscaler);
  }
  return report;
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
/**
 * Runs of the loop as one run: containers over the time of all of them; the median of their p50 start latencies and
 * the 99th percentile of their p99s (one-container samples: their single latencies; a few rounds: the worst).
 */
function combineRuns(runs: readonly Awaited<ReturnType<typeof runDockerLoop>>[]): Awaited<ReturnType<typeof runDockerLoop>> {
  const containers = runs.reduce((sum, r) => sum + r.containers, 0);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return {
    containers, inFlight: runs[0]?.inFlight ?? 0, seconds, containersPerSecond: containers / seconds,
    p50StartMs: percentile(runs.map((r) => r.p50StartMs), 50),
    p99StartMs: percentile(runs.map((r) => r.p99StartMs), 99),
  };
}

const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

/** The report as Markdown: one table per part, with the goal of each figure and whether it is met. */
export function toMarkdown(r: Report): string {
  const out: string[] = [`# Tangerine benchmark${r.quick ? ' (quick: figures not judged)' : ''}`, '', `Run ${r.startedAt} on ${process.version}.`, ''];
  if (r.throughput) {
    const { tangerine, peers } = r.throughput;
    out.push('## (1) Throughput without containers (`true` per job)', '', '| who | mode | jobs | jobs/s | time (s) | settings |', '|---|---|---|---|---|---|');
    for (const mode of ['single', 'batch'] as const) {
      const t = tangerine[mode];
      out.push(`| Tangerine | ${mode} | ${t.tasks} | ${f0(t.tasksPerSecond)} | ${f2(t.seconds)} | ${t.concurrency} slots, ${f2(t.statementsPerTask)} statements/task |`);
      for (const p of peers.filter((x) => x.mode === mode)) {
        out.push(`| ${p.peer} ${p.version} | ${mode} | ${p.jobs} | ${f0(p.jobsPerSecond)} | ${f2(p.seconds)} | ${p.settings} |`);
      }
    }
    out.push('', '| mode | Tangerine / best peer | goal ≥ 1.0 |', '|---|---|---|');
    for (const mode of ['single', 'batch'] as const) {
      const best = Math.max(...peers.filter((x) => x.mode === mode).map((x) => x.jobsPerSecond));
      const ratio = tangerine[mode].tasksPerSecond / best;
      out.push(`| ${mode} | ${f2(ratio)} | ${verdict(ratio >= 1)} |`);
    }
    for (const mode of ['single', 'batch'] as const) {
      const t = tangerine[mode];
      const perTask = Object.entries(t.cpuSeconds).map(([who, s]) => `${who} ${f2((s * 1000) / t.tasks)}`).join(', ');
      out.push('', `Tangerine's CPU per task, ${mode} (ms; an agent's with its runs): ${perTask}.`);
    }
    out.push('');
  }
  if (r.containers) {
    const { tangerine: t, dockerLoop: d, dockerOne: one } = r.containers;
    const ratio = t.containersPerSecond / d.containersPerSecond;
    const added = t.p50StartMs - one.p50StartMs;
    out.push('## (2) Real containers (busybox `true`, 4 at a time)', '', '| figure | Tangerine | dockerode loop | goal |', '|---|---|---|---|',
      `| containers/s | ${f2(t.containersPerSecond)} | ${f2(d.containersPerSecond)} | ratio ${f2(ratio)} ≥ 0.9: ${verdict(ratio >= 0.9)} |`,
      `| start latency p50 / p99 (ms), one at a time | ${f0(t.p50StartMs)} / ${f0(t.p99StartMs)} (submit → started) | ${f0(one.p50StartMs)} / ${f0(one.p99StartMs)} (create → started) | added at p50 ${f0(added)} ms ≤ 25: ${verdict(added <= 25)} |`,
      `| start latency p50 / p99 (ms), 4 in flight | | ${f0(d.p50StartMs)} / ${f0(d.p99StartMs)} | |`,
      `| submit → \`running\` in the ledger, p50 (ms) | ${f0(t.p50RunningEventMs)} | | |`, '');
  }
  if (r.fleet) out.push('## (3) Fleet scale', '', fleetTable([r.fleet]), '');
  if (r.dependencies) {
    const d = r.dependencies;
    out.push('## (4) Dependencies', '', '| figure | value | goal |', '|---|---|---|',
      `| chain of ${d.chain}: total | ${f2(d.chainSeconds)} s | |`,
      `| chain: success → dependent ready, p50 / p99 | ${f0(d.chainP50Ms)} / ${f0(d.chainP99Ms)} ms | p50 ≤ 5 ms: ${verdict(d.chainP50Ms <= 5)} |`,
      `| fan-in of ${d.fanIn}: total | ${f2(d.fanInSeconds)} s | |`,
      `| fan-in: last parent's success → sink ready | ${f0(d.fanInReleaseMs)} ms | |`,
      `| fan-in: updates of the sink's row | ${d.sinkUpdates} | one step: ${verdict(d.sinkUpdates === 1)} |`, '');
  }
  if (r.growth) {
    out.push('## (5) Cost growth', '', '| jobs | jobs/s | time (s) | statements/job | peak RSS, largest service (MB) |', '|---|---|---|---|---|');
    for (const t of r.growth.throughput) {
      const [who, mb] = Object.entries(t.peakRssMb).filter(([k]) => k !== 'nats-server').sort((a, b) => b[1] - a[1])[0] ?? ['–', 0];
      out.push(`| ${t.tasks} | ${f0(t.tasksPerSecond)} | ${f2(t.seconds)} | ${f2(t.statementsPerTask)} | ${mb} (${who}) |`);
    }
    out.push('', linearity(r.growth.throughput.map((t) => [t.tasks, t.seconds])), '');
    if (r.growth.fleet.length > 0) out.push(fleetTable(r.growth.fleet), '', linearity(r.growth.fleet.map((f) => [f.tasks, f.seconds])), '');
  }
  if (r.http) {
    const h = r.http;
    const ratio = h.httpPerSecond / h.natsPerSecond;
    out.push('## (6) HTTP API', '', '| figure | value | goal |', '|---|---|---|',
      `| POST /v1/tasks, one spec per request, ${h.sizes.clients} clients: accepted by intake | ${f0(h.httpPerSecond)}/s (requests answered: ${f0(h.httpRequestsPerSecond)}/s) | |`,
      `| the same specs by \`nats pub\` (a core publish on tasks.submit), ${h.sizes.clients} senders: accepted by intake | ${f0(h.natsPerSecond)}/s | |`,
      `| HTTP / NATS | ${f2(ratio)} | ≥ 0.8: ${verdict(ratio >= 0.8)} |`,
      `| CPU ms per spec by HTTP | ${cpuLine(h.httpCpuMsPerSpec)} | |`,
      `| CPU ms per spec by NATS | ${cpuLine(h.natsCpuMsPerSpec)} | |`,
      `| GET /v1/tasks?limit=100 at ${h.sizes.listTasks} tasks, p50 / p99 | ${f0(h.listP50Ms)} / ${f0(h.listP99Ms)} ms | p99 ≤ 50 ms: ${verdict(h.listP99Ms <= 50)} |`,
      `| GET /v1/events: ${h.sizes.subscribers} subscribers, ${h.sizes.eventsPerSecond} events/s, delivery p50 / p99 | ${f0(h.eventP50Ms)} / ${f0(h.eventP99Ms)} ms (${h.eventsDelivered} of ${h.eventsExpected} delivered) | p99 ≤ 100 ms: ${verdict(h.eventP99Ms <= 100 && h.eventsDelivered === h.eventsExpected)} |`, '');
  }
  if (r.page) {
    const p = r.page;
    const max = (xs: number[]) => Math.max(...xs);
    const bytes = Object.values(p.clientBytes).reduce((a, b) => a + b, 0);
    out.push('## (7) Status page (chromium, headless)', '', '| figure | value | goal |', '|---|---|---|',
      `| tasks page at ${p.sizes.tasks} tasks: navigation → first row, median / worst of ${p.tasksFirstContentMs.length} (first cold) | ${f0(percentile(p.tasksFirstContentMs, 50))} / ${f0(max(p.tasksFirstContentMs))} ms | ≤ 1,000 ms: ${verdict(max(p.tasksFirstContentMs) <= 1000)} |`,
      `| graph of ${p.sizes.graphNodes} nodes, ${p.edges} edges: layout and draw, median / worst (the layout alone, median) | ${f0(percentile(p.graphDrawMs, 50))} / ${f0(max(p.graphDrawMs))} ms (${f0(percentile(p.graphLayoutMs, 50))} ms) | ≤ 2,000 ms: ${verdict(max(p.graphDrawMs) <= 2000)} |`,
      `| GET /v1/tasks/{name}/graph of that workflow (from node), median / worst | ${f0(percentile(p.graphReadMs, 50))} / ${f0(max(p.graphReadMs))} ms | |`,
      `| the same page: navigation → graph drawn, median / worst | ${f0(percentile(p.graphPageMs, 50))} / ${f0(max(p.graphPageMs))} ms | |`,
      `| a zoom step of that graph → the frame after, p50 | ${f0(p.graphZoomFrameMs)} ms | |`,
      `| bytes the page loads (${Object.entries(p.clientBytes).map(([k, v]) => `${k.replace('/ui/assets/', '')} ${v}`).join(', ')}) | ${bytes} | |`, '');
  }
  if (r.notifier) {
    const n = r.notifier;
    out.push('## (8) Notifier', '', '| figure | value | goal |', '|---|---|---|',
      `| ${n.events} failed and blocked events fed at once, Slack answering one message per 2 s (429 otherwise): recorded | ${f0(n.eventsPerSecond)} events/s (${f2(n.absorbSeconds)} s) | keeps up with the pipeline's events (section 1): compare |`,
      `| peak RSS of the notifier | ${n.peakRssMb} MB | ≤ 200 MB: ${verdict(n.peakRssMb <= 200)} |`,
      `| messages that told them all (429s meanwhile) | ${n.messages} (${n.rateLimited}) | every event told: ${verdict(n.allTold)} |`, '');
  }
  if (r.autoscaler) {
    const a = r.autoscaler;
    out.push('## (9) Autoscaler', '', '| figure | value | goal |', '|---|---|---|',
      `| decide() at ${a.sizes.hosts} hosts and ${a.sizes.tasks} queued tasks, grouped by label set in it: p50 / worst of ${a.sizes.samples} | ${f2(a.p50Ms)} / ${f2(a.worstMs)} ms | ≤ 100 ms: ${verdict(a.worstMs <= 100)} |`,
      `| the same, the tasks read already grouped (the service's case): p50 | ${f2(a.groupedP50Ms)} ms | |`,
      `| what it decided | target ${a.target}, ${a.drained} drained | |`, '');
  }
  return out.join('\n');
}

function cpuLine(cpu: Record<string, number>): string {
  return Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
}

function fleetTable(runs: Awaited<ReturnType<typeof runFleetBench>>[]): string {
  const rows = runs.map((f) => {
    const rss = Object.entries(f.peakRssMb).map(([k, v]) => `${k} ${v}`).join(', ');
    const maxService = Math.max(...Object.entries(f.peakRssMb).filter(([k]) => k !== 'simulator' && k !== 'nats-server').map(([, v]) => v));
    return `| ${f.hosts} | ${f.tasks} | ${f0(f.placementsPerSecond)} (${verdict(f.placementsPerSecond >= 2000)}) | ${f0(f.steadyP50PlacementMs)} / ${f0(f.steadyP99PlacementMs)} (${verdict(f.steadyP99PlacementMs <= 250)}) | ${f0(f.p50PlacementMs)} / ${f0(f.p99PlacementMs)} | ${f2(f.statementsPerPlacement)} (${verdict(f.statementsPerPlacement <= 2)}) | ${rss} (${verdict(maxService <= 200)}) | ${f2(f.seconds)} |`;
  });
  return ['| hosts | tasks | placements/s (≥ 2,000) | ready → placed p50 / p99 ms, steady 1,000/s (p99 ≤ 250) | the same, whole queue at once (queueing) | statements/placement (≤ 2) | peak RSS MB (services ≤ 200) | submit → last success (s) |',
    '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/** Time per item from the smallest to the largest size: flat means linear. */
function linearity(points: [number, number][]): string {
  if (points.length < 2) return '';
  const per = points.map(([n, s]) => (s / n) * 1e6);
  const growth = per[per.length - 1]! / per[0]!;
  return `Time per item: ${per.map((p, i) => `${f0(p)} µs at ${points[i]![0]}`).join(', ')}; ×${f2(growth)} from the smallest to the largest size: ${
    growth <= 1.25 ? 'linear or better' : 'worse than linear'}.`;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  for (const part of only ?? []) if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only: unknown part "${part}" (parts: ${PARTS.join(', ')})`);
  const report = await runReport({ quick, ...(only ? { only } : {}) });
  const dir = path.join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `report-${quick ? 'quick' : 'full'}-${report.startedAt.replace(/[:.]/g, '-')}.md`);
  const markdown = toMarkdown(report);
  writeFileSync(file, `${markdown}\n`);
  writeFileSync(file.replace(/\.md$/, '.json'), JSON.stringify(report, null, 2));
  console.log(`\n${markdown}\n\nreport: ${file}\n        ${file.replace(/\.md$/, '.json')}`);
  process.exit(0);
}
