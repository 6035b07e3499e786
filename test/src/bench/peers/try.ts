// Shows the peer runners work: each at a small size (or the full size with --full), one at a time, a table out.
//   npm run build --workspace @tangerine/test && node test/dist/bench/peers/try.js [--full] [--only pg-boss,graphile-worker,docker]
// PEER_MODES=batch (or single) narrows the submission modes; PEER_IMAGE overrides the Docker loop's image. The CPU
// column says where the machine's CPU went meanwhile: "others" is work that is not this run's (a shared machine).
import { createDatabase } from '../../helpers/postgres.js';
import { CpuWatch } from './cpu-watch.js';
import { runDockerLoop } from './docker-loop.js';
import { runGraphileWorker } from './graphile-worker.js';
import { runPgBoss } from './pg-boss.js';
import type { QueueRun, QueueRunOptions, SubmitMode } from './types.js';

const full = process.argv.includes('--full');
const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
const only = process.argv.includes('--only') && onlyArg ? onlyArg.split(',') : ['pg-boss', 'graphile-worker', 'docker'];
const modes = (process.env['PEER_MODES']?.split(',') ?? ['single', 'batch']) as SubmitMode[];
const size = full ? { jobs: 20000, concurrency: 512, containers: 300, inFlight: 4 } : { jobs: 2000, concurrency: 64, containers: 40, inFlight: 4 };
const image = process.env['PEER_IMAGE'] ?? 'tangerine-test/busybox:latest';

/** The run, its wall time (setup included) and where the CPU went meanwhile (others share this machine). */
async function measured<T>(database: string | null, fn: () => Promise<T>): Promise<{ result: T; wallSeconds: number; cpu: string }> {
  const watch = new CpuWatch(database);
  const t0 = performance.now();
  try {
    const result = await fn();
    const wallSeconds = (performance.now() - t0) / 1000;
    const { cores } = watch.stop();
    process.stderr.write(`others, sampled: ${watch.topOthers()}\n`);
    const cpu = `run ${cores.run.toFixed(2)}, db ${cores.database.toFixed(2)}, docker ${cores.docker.toFixed(2)}, others ${cores.others.toFixed(2)}`;
    return { result, wallSeconds, cpu };
  } finally {
    watch.stop();
  }
}

const queueRows: string[] = [];
const runners: Record<string, (o: QueueRunOptions) => Promise<QueueRun>> = { 'pg-boss': runPgBoss, 'graphile-worker': runGraphileWorker };
for (const [peer, runner] of Object.entries(runners)) {
  if (!only.includes(peer)) continue;
  for (const mode of modes) {
    const db = await createDatabase('peer');
    try {
      const { result: r, wallSeconds, cpu } = await measured(db.name, () => runner({ databaseUrl: db.url, jobs: size.jobs, concurrency: size.concurrency, mode }));
      queueRows.push(`| ${r.peer} ${r.version} | ${r.mode} | ${r.jobs} | ${r.concurrency} | ${r.seconds.toFixed(2)} s | ${r.jobsPerSecond.toFixed(0)} | ${wallSeconds.toFixed(1)} s | ${cpu} | ${r.settings} |`);
      process.stderr.write(`${queueRows.at(-1)}\n`);
    } finally {
      await db.drop().catch(() => undefined);
    }
  }
}
if (queueRows.length > 0) {
  console.log(['', '| peer | mode | jobs | concurrency | first submit → last completion | jobs/s | wall (setup included) | CPU, cores (avg over wall) | settings |', '|---|---|---|---|---|---|---|---|---|', ...queueRows].join('\n'));
}
if (only.includes('docker')) {
  const { result: d, wallSeconds, cpu } = await measured(null, () => runDockerLoop({ containers: size.containers, inFlight: size.inFlight, image }));
  console.log([
    '', '| docker loop | containers | in flight | seconds | containers/s | create → started p50 / p99 | wall | CPU, cores (avg over wall) |', '|---|---|---|---|---|---|---|---|',
    `| ${image} | ${d.containers} | ${d.inFlight} | ${d.seconds.toFixed(2)} s | ${d.containersPerSecond.toFixed(1)} | ${d.p50StartMs.toFixed(0)} ms / ${d.p99StartMs.toFixed(0)} ms | ${wallSeconds.toFixed(1)} s | ${cpu} |`,
  ].join('\n'));
}
