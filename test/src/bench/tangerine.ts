// Tangerine's side of `npm run bench`: throughput without containers, real containers, and dependencies.
import pg from 'pg';
import { collectEvents, percentile, startStack, waitFor, type BenchStack } from './stack.js';

const enc = new TextEncoder();

export type SubmitMode = 'single' | 'batch';

export interface ThroughputRun {
  tasks: number;
  mode: SubmitMode;
  concurrency: number;
  seconds: number;
  tasksPerSecond: number;
  statementsPerTask: number;
  peakRssMb: Record<string, number>;
  /** CPU seconds per process over the run (an agent's with its runs). */
  cpuSeconds: Record<string, number>;
}

/** Publishes specs as `nats pub` does (core NATS, captured by the stream): one per message, or lists of 1,000. */
async function submitAll(stack: BenchStack, specs: Record<string, unknown>[], mode: SubmitMode): Promise<void> {
  if (mode === 'single') {
    specs.forEach((spec, i) => {
      stack.nc.publish('tasks.submit', enc.encode(JSON.stringify(spec)));
      if (i % 500 === 499) void stack.nc.flush();
    });
  } else {
    for (let i = 0; i < specs.length; i += 1000) stack.nc.publish('tasks.submit', enc.encode(JSON.stringify(specs.slice(i, i + 1000))));
  }
  await stack.nc.flush();
}

/** (1) N independent tasks running `true` through the process executor, every service its own process. */
export async function runThroughput(opts: { tasks: number; mode: SubmitMode; agents: number; slots: number; timeoutMs: number }): Promise<ThroughputRun> {
  const stack = await startStack({
    agents: Array.from({ length: opts.agents }, (_, i) => ({ host: `bench-${i}`, slots: opts.slots, executors: 'process' })),
  });
  try {
    const succeeded = collectEvents(stack.nc, 'success');
    let last = 0;
    stack.nc.subscribe('tasks.events.*.success', { callback: () => { last = performance.now(); } });
    await stack.nc.flush();
    const specs = Array.from({ length: opts.tasks }, (_, i) => ({ name: `t-${i}`, executor: 'process', command: ['true'] }));
    const cpuBefore = stack.cpu();
    const start = performance.now();
    await submitAll(stack, specs, opts.mode);
    if (!(await waitFor(() => succeeded.size >= opts.tasks, opts.timeoutMs))) {
      throw new Error(`throughput: ${succeeded.size} of ${opts.tasks} tasks succeeded within ${opts.timeoutMs} ms`);
    }
    const seconds = (last - start) / 1000;
    return {
      tasks: opts.tasks, mode: opts.mode, concurrency: opts.agents * opts.slots, seconds, tasksPerSecond: opts.tasks / seconds,
      statementsPerTask: (await stack.statements()) / opts.tasks, peakRssMb: stack.peakRss(),
      cpuSeconds: Object.fromEntries(Object.entries(stack.cpu()).map(([k, v]) => [k, v - (cpuBefore[k] ?? 0)])),
    };
  } finally {
    await stack.stop();
  }
}

export interface ContainerRun {
  containers: number;
  slots: number;
  seconds: number;
  containersPerSecond: number;
  /**
   * Submit → container started (the run's `started_at`, stamped by the agent when Docker's start returned), one task
   * at a time with a free slot waiting: what Tangerine adds to a start.
   */
  p50StartMs: number;
  p99StartMs: number;
  /** Submit → `running` recorded in the ledger (the event's `at`): the start above, then its report reaching the monitor. */
  p50RunningEventMs: number;
}

/** (2) Busybox containers running `true` on one agent with `slots` slots; then single tasks for the start latency. */
/**
 * (2) Real containers: `containers` at once through `slots`, then `samples` one at a time for the start latency;
 * `between` runs after each sample (the bare loop's own sample, so both see Docker in the same state).
 */
export async function runContainers(opts: {
  containers: number; slots: number; image: string; samples: number; timeoutMs: number;
  /** Called after each one-at-a-time sample. */
  between?: () => Promise<void>;
  /** The containers go in this many rounds, each timed from its submit to its last success (default 1)... */
  rounds?: number;
  /** ...and this is called after each round (the bare loop's own round, so the two alternate). */
  betweenRounds?: (containers: number) => Promise<void>;
}): Promise<ContainerRun> {
  const stack = await startStack({ agents: [{ host: 'bench-docker', slots: opts.slots, executors: 'docker' }] });
  try {
    const succeeded = collectEvents(stack.nc, 'success');
    const running = collectEvents(stack.nc, 'running');
    let last = 0;
    stack.nc.subscribe('tasks.events.*.success', { callback: () => { last = performance.now(); } });
    await stack.nc.flush();
    // Warm the image cache and the agent, outside the measurement.
    await submitAll(stack, [{ name: 'warm-up', image: opts.image, command: ['true'] }], 'single');
    await waitFor(() => succeeded.has('warm-up'), opts.timeoutMs);
    const rounds = Math.max(1, opts.rounds ?? 1);
    let seconds = 0;
    let done = 0;
    for (let r = 0; r < rounds; r++) {
      const size = Math.floor(opts.containers / rounds) + (r < opts.containers % rounds ? 1 : 0);
      const specs = Array.from({ length: size }, (_, i) => ({ name: `c-${done + i}`, image: opts.image, command: ['true'] }));
      const start = performance.now();
      await submitAll(stack, specs, 'single');
      done += size;
      if (!(await waitFor(() => succeeded.size >= done + 1, opts.timeoutMs))) {
        throw new Error(`containers: ${succeeded.size - 1} of ${done} succeeded within ${opts.timeoutMs} ms`);
      }
      seconds += (last - start) / 1000;
      await opts.betweenRounds?.(size);
    }
    const submittedAt = new Map<string, number>();
    for (let i = 0; i < opts.samples; i++) {
      const name = `one-${i}`;
      submittedAt.set(name, Date.now());
      await submitAll(stack, [{ name, image: opts.image, command: ['true'] }], 'single');
      await waitFor(() => succeeded.has(name), opts.timeoutMs);
      await opts.between?.();
    }
    const startedAt = await runStarts(stack.databaseUrl, [...submittedAt.keys()]);
    const starts = [...submittedAt].map(([name, t]) => startedAt.get(name)! - t).sort((a, b) => a - b);
    const events = [...submittedAt].map(([name, t]) => running.get(name)! - t).sort((a, b) => a - b);
    return {
      containers: opts.containers, slots: opts.slots, seconds, containersPerSecond: opts.containers / seconds,
      p50StartMs: percentile(starts, 50), p99StartMs: percentile(starts, 99), p50RunningEventMs: percentile(events, 50),
    };
  } finally {
    await stack.stop();
  }
}

/** When each task's first run started, from the ledger (epoch ms). */
async function runStarts(databaseUrl: string, names: string[]): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ task: string; started_at: Date }>(
      'SELECT task, started_at FROM runs WHERE task = ANY($1::text[]) AND attempt = 1', [names]);
    return new Map(rows.map((r) => [r.task, r.started_at.getTime()]));
  } finally {
    await client.end();
  }
}

export interface DependencyRun {
  chain: number;
  chainSeconds: number;
  /** A task's success → its dependent's ready, along the chain. */
  chainP50Ms: number;
  chainP99Ms: number;
  fanIn: number;
  fanInSeconds: number;
  /** The last parent's success → the sink's ready. */
  fanInReleaseMs: number;
  /** Ledger updates of the sink while 10,000 parents succeeded: one per batch of successes, never one per parent. */
  sinkUpdates: number;
}

/** (4) A chain of `chain` tasks, then a fan-in of `fanIn` parents into one sink. */
export async function runDependencies(opts: { chain: number; fanIn: number; slots: number; timeoutMs: number }): Promise<DependencyRun> {
  const stack = await startStack({ agents: [{ host: 'bench-deps', slots: opts.slots, executors: 'process' }] });
  try {
    const success = collectEvents(stack.nc, 'success');
    const ready = collectEvents(stack.nc, 'ready');
    let sinkReadyVersion = 0;
    stack.nc.subscribe('tasks.events.sink.ready', { callback: (_e, m) => { sinkReadyVersion = (m.json() as { version: number }).version; } });
    await stack.nc.flush();

    const chain = Array.from({ length: opts.chain }, (_, i) => ({
      name: `chain-${i}`, executor: 'process', command: ['true'], ...(i > 0 ? { dependencies: [`chain-${i - 1}`] } : {}),
    }));
    let start = performance.now();
    await submitAll(stack, chain, 'batch');
    if (!(await waitFor(() => success.has(`chain-${opts.chain - 1}`), opts.timeoutMs))) throw new Error('the chain did not finish');
    const chainSeconds = (performance.now() - start) / 1000;
    const steps = chain.slice(1).map((_, i) => ready.get(`chain-${i + 1}`)! - success.get(`chain-${i}`)!);

    const parents = Array.from({ length: opts.fanIn }, (_, i) => `parent-${i}`);
    start = performance.now();
    await submitAll(stack, [{ name: 'sink', executor: 'process', command: ['true'], dependencies: parents }], 'single');
    await submitAll(stack, parents.map((name) => ({ name, executor: 'process', command: ['true'] })), 'batch');
    if (!(await waitFor(() => success.has('sink'), opts.timeoutMs))) throw new Error('the fan-in did not finish');
    const fanInSeconds = (performance.now() - start) / 1000;
    const lastParent = Math.max(...parents.map((p) => success.get(p)!));
    return {
      chain: opts.chain, chainSeconds, chainP50Ms: percentile(steps, 50), chainP99Ms: percentile(steps, 99),
      fanIn: opts.fanIn, fanInSeconds, fanInReleaseMs: ready.get('sink')! - lastParent,
      // The sink's row: version 1 when submitted (waiting), one more per release statement that counted it down.
      sinkUpdates: sinkReadyVersion - 1,
    };
  } finally {
    await stack.stop();
  }
}
