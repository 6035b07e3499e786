// Helpers shared by the peer runners: the per-job work, worker processes, bounded submission, completion polling.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The work every peer does per job, the same as Tangerine's process executor per task: spawn `true`, wait for it. */
export function runTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`true exited with ${code ?? signal}`));
    });
  });
}

/** `total` split as evenly as possible into `parts` whole numbers (the larger shares first). */
export function split(total: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, total));
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

/** Calls `fn(0) … fn(count - 1)`, at most `limit` of them unsettled at once, each started as soon as a slot frees. */
export async function bounded(count: number, limit: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

/** Messages a worker process sends its parent over IPC. */
export type WorkerMessage = { type: 'ready' } | { type: 'failed'; message: string };

/**
 * A peer's worker as a Node process of its own (the way both peers are meant to be deployed, and the way
 * Tangerine's agents run): `script` is a sibling module, `config` reaches it as JSON in argv[2]. The child answers
 * 'ready' once it takes jobs, reports a failing job as 'failed', and exits on a 'stop' message.
 */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly failures: string[] = [];
  readonly ready: Promise<void>;

  constructor(script: string, config: object) {
    const file = fileURLToPath(new URL(script, import.meta.url));
    this.child = fork(file, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'failed') this.failures.push(m.message);
      });
      this.child.once('exit', (code, signal) => reject(new Error(`${script} exited before it was ready (${code ?? signal})`)));
    });
    this.ready.catch(() => undefined);
  }

  /** Asks the worker to stop and waits for its exit; kills it after `graceMs`. */
  async stop(graceMs = 10000): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    if (c.connected) c.send('stop');
    else c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** In a worker process: the config its parent passed, and the IPC plumbing (ready, failures, stop). */
export function workerSide<T>(onStop: () => Promise<void>): { config: T; send: (m: WorkerMessage) => void } {
  const config = JSON.parse(process.argv[2] ?? '{}') as T;
  const send = (m: WorkerMessage): void => {
    if (process.connected) process.send!(m);
  };
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => process.exit(0), 8000);
    hard.unref();
    onStop().then(() => process.exit(0), (err: Error) => {
      process.stderr.write(`stopping: ${err.message}\n`);
      process.exit(1);
    });
  };
  process.on('message', (m) => { if (m === 'stop') stop(); });
  process.on('disconnect', stop); // the parent is gone
  process.on('SIGTERM', stop);
  return { config, send };
}

/** Fails fast when a worker process reports a failed job or dies during a run. */
export function assertWorkersHealthy(workers: WorkerProcess[]): void {
  for (const w of workers) {
    if (w.failures.length > 0) throw new Error(`a job failed in a worker process: ${w.failures[0]}`);
    if (w.child.exitCode !== null || w.child.signalCode !== null) throw new Error(`a worker process exited during the run (${w.child.exitCode ?? w.child.signalCode})`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Splits 0 … count-1 into consecutive chunks of `size`. */
export function chunks(count: number, size: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < count; start += size) out.push(Array.from({ length: Math.min(size, count - start) }, (_, k) => start + k));
  return out;
}
