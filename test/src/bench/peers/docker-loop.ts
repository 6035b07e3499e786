// The floor for Docker tasks: a plain dockerode loop with `inFlight` containers at once, each created (image,
// `true`), started, waited for and removed; no scheduler at all. The image must be local: it is never pulled.
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { bounded } from './common.js';

export interface DockerLoopRun {
  containers: number;
  inFlight: number;
  /** From the first create to the last remove. */
  seconds: number;
  containersPerSecond: number;
  /** From the call to create until start resolved. */
  p50StartMs: number;
  p99StartMs: number;
}

/** Every container this loop makes carries it, for cleanup (plus `tangerine.bench.run` for this run's own). */
export const PEER_LABEL = 'tangerine.bench';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runDockerLoop(opts: { containers: number; inFlight: number; image: string }): Promise<DockerLoopRun> {
  const docker = new Docker();
  await docker.getImage(opts.image).inspect().catch((err: Error) => {
    throw new Error(`image ${opts.image} is not present locally (this loop never pulls): ${err.message}`);
  });
  const run = randomUUID();
  const startLatencies: number[] = [];
  try {
    const start = performance.now();
    await bounded(opts.containers, opts.inFlight, async () => {
      const t0 = performance.now();
      const container = await docker.createContainer({
        Image: opts.image,
        Cmd: ['true'],
        Labels: { [PEER_LABEL]: 'peer', [`${PEER_LABEL}.run`]: run },
      });
      try {
        await container.start();
        startLatencies.push(performance.now() - t0);
        const result = (await container.wait()) as { StatusCode: number };
        if (result.StatusCode !== 0) throw new Error(`container exited with ${result.StatusCode}`);
      } finally {
        await container.remove({ force: true });
      }
    });
    const seconds = (performance.now() - start) / 1000;
    const sorted = startLatencies.sort((a, b) => a - b);
    return {
      containers: opts.containers, inFlight: opts.inFlight, seconds, containersPerSecond: opts.containers / seconds,
      p50StartMs: percentile(sorted, 50), p99StartMs: percentile(sorted, 99),
    };
  } finally {
    // Containers of this run left behind by a failure (a remove that did not happen).
    const left = await docker.listContainers({ all: true, filters: { label: [`${PEER_LABEL}.run=${run}`] } }).catch(() => []);
    for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
}
