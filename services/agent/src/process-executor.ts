import { spawn } from 'node:child_process';
import os from 'node:os';
import type { RunDispatch } from '@tangerine/contracts';
import { ExecutorError, type Executor, type RunEnd, type StartedRun } from './executor.js';
import { TailBuffer } from './tail.js';

/** Variables a process inherits from the agent; nothing else of the agent's environment (no secrets) leaks in. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];

/** Runs the command as a local process (Consul Scheduler's bash executor, Blanket's bash tasks). */
export class ProcessExecutor implements Executor {
  readonly kind = 'process';

  async start(run: RunDispatch): Promise<StartedRun> {
    const argv = [...(run.spec.entrypoint ?? []), ...run.spec.command];
    const [file, ...args] = argv;
    if (!file) throw new ExecutorError('command: is empty');
    const env: Record<string, string> = {};
    for (const key of INHERITED) if (process.env[key] !== undefined) env[key] = process.env[key]!;
    Object.assign(env, run.spec.env, { TANGERINE_TASK: run.name, TANGERINE_ATTEMPT: String(run.attempt) });
    const child = spawn(file, args, { env, cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    const output = new TailBuffer();
    child.stdout.on('data', (c: Buffer) => output.write(c));
    child.stderr.on('data', (c: Buffer) => output.write(c));
    const startedAt = new Date().toISOString();

    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new ExecutorError(`spawn ${file}: ${err.message}`)));
    });
    const done = new Promise<RunEnd>((resolve) => {
      child.once('close', (code, signal) => resolve({
        exit_code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null),
        reason: signal ? `killed by ${signal}` : null,
        output: output.toString(),
        started_at: startedAt,
        finished_at: new Date().toISOString(),
      }));
    });
    await spawned;
    return {
      runId: `pid:${child.pid ?? 0}`,
      startedAt,
      done,
      async stop() {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await done;
        clearTimeout(killer);
      },
    };
  }
}
