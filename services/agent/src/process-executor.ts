import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunDispatch } from '@tangerine/contracts';
import { systemClock, type Clock } from '@tangerine/runtime';
import { ExecutorError, StartedBeforeError, type Executor, type OutputSink, type RunEnd, type StartedRun, type StopOptions } from './executor.js';
import { followFile } from './follow-file.js';
import type { Launcher, RunLimits } from './launcher.js';
import type { RunUser } from './sandbox.js';
import { TailBuffer } from './tail.js';

/** Variables a process inherits from the agent; nothing else of the agent's environment (no secrets) leaks in. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];

/**
 * Runs the command as a local process (Consul Scheduler's bash executor, Blanket's bash tasks), in its own
 * process group so a stop reaches its children too. Through the launcher when there is one (cheap spawns,
 * output to a file whose tail is read at the end), else through Node's spawn (output through pipes).
 *
 * It offers no `adopt`: its processes are children of the agent (or of its launcher), and a new agent can neither
 * wait for another process's children nor read their exit status. A process run whose agent died is found lost
 * by host health (the host's announcements no longer list it) and runs again if its task allows. Through the
 * launcher, a run's output file lives in the host's run directory from its start until its exit is reported
 * (`cleanup`): a dispatch delivered again to the next agent finds it, and the run is reported lost instead of
 * started a second time.
 */
export class ProcessExecutor implements Executor {
  readonly coalescesQuickRuns = true;
  readonly kind = 'process';

  /**
   * `sandbox.user`: the user every run is started as (null: the agent's own, when it is not root).
   * `sandbox.limitsRefused`: null when the launcher enforces cpu and memory with a cgroup per run, else why it cannot
   * (a run asking for them is then refused, naming the field).
   */
  constructor(
    private readonly stopGraceMs = 10000,
    private readonly launcher: Launcher | null = null,
    private readonly clock: Clock = systemClock,
    private readonly outDir: string = outputDirectory(),
    private readonly sandbox: { user: RunUser | null; limitsRefused: string | null } = { user: null, limitsRefused: 'no cgroups were set up' },
  ) {}

  async start(run: RunDispatch, workDir: string | null = null): Promise<StartedRun> {
    const argv = [...(run.spec.entrypoint ?? []), ...run.spec.command];
    if (argv.length === 0) throw new ExecutorError('command: is empty');
    const limits = run.spec.cpu !== null || run.spec.memory !== null ? { cpu: run.spec.cpu, memory: run.spec.memory } : null;
    const refused = limits === null ? null : !this.launcher?.running ? 'the agent has no process launcher' : this.sandbox.limitsRefused;
    if (limits !== null && refused !== null) {
      const fields = [limits.cpu !== null ? 'cpu' : null, limits.memory !== null ? 'memory' : null].filter(Boolean).join(', ');
      throw new ExecutorError(`${fields}: the process executor of this host cannot enforce it (${refused}); run the task in a container, or leave ${fields} out`);
    }
    const env: Record<string, string> = {};
    for (const key of INHERITED) if (process.env[key] !== undefined) env[key] = process.env[key]!;
    if (this.sandbox.user) env['HOME'] = this.sandbox.user.home;
    Object.assign(env, run.spec.env, run.spec.secret_env, { TANGERINE_TASK: run.name, TANGERINE_ATTEMPT: String(run.attempt) });
    return this.launcher?.running ? this.launch(this.launcher, run, argv, env, limits, workDir) : this.spawnDirect(argv, env, workDir);
  }

  private async launch(
    launcher: Launcher, run: RunDispatch, argv: string[], env: Record<string, string>, limits: RunLimits | null, workDir: string | null,
  ): Promise<StartedRun> {
    const id = `${run.name}:${run.attempt}`;
    const out = path.join(this.outDir, `${run.name}-${run.attempt}.out`);
    if (existsSync(out)) throw new StartedBeforeError(`${id} was started by an earlier agent of this host`);
    let launched: Awaited<ReturnType<Launcher['spawn']>>;
    try {
      launched = await launcher.spawn(id, argv, env, out, limits, workDir);
    } catch (err) {
      throw new ExecutorError(`spawn ${argv[0]}: ${(err as Error).message}`);
    }
    const startedAt = this.clock.now().toISOString();
    const done = launched.ended.then((end): RunEnd => ({
      exit_code: end.exit ?? 128 + (end.signal ?? 0),
      reason: end.oom && limits?.memory ? `memory: the run went over its limit of ${limits.memory} MiB and was killed`
        : end.signal !== undefined ? `killed by signal ${end.signal}` : null,
      output: end.output,
      started_at: startedAt,
      finished_at: this.clock.now().toISOString(),
      ...(end.lost ? { lost: 'run_lost: the agent\'s process launcher died, and the run was killed with it' } : {}),
    }));
    return {
      runId: `pid:${launched.pid}`,
      startedAt,
      done,
      follow: (sink) => followFile(out, sink),
      stop: async (_reason: string, options: StopOptions = {}) => {
        launcher.kill(id, options.kill ? os.constants.signals.SIGKILL : os.constants.signals.SIGTERM);
        const killer = setTimeout(() => launcher.kill(id, os.constants.signals.SIGKILL), this.stopGraceMs);
        await done;
        clearTimeout(killer);
      },
      cleanup: async () => {
        // One system call (rmSync looks first, then unlinks).
        try {
          unlinkSync(out);
        } catch {
          // already gone
        }
      },
    };
  }

  private async spawnDirect(argv: string[], env: Record<string, string>, workDir: string | null): Promise<StartedRun> {
    const [file, ...args] = argv as [string, ...string[]];
    const user = this.sandbox.user;
    // Node sets the uid and gid (and drops every supplementary group) in the child before it execs.
    const ids = user ? { uid: user.uid, gid: user.gid } : {};
    const child = spawn(file, args, { env, cwd: workDir ?? os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...ids });
    const output = new TailBuffer();
    let live: OutputSink | null = null;
    const read = (c: Buffer): void => {
      output.write(c);
      live?.write(c);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    const startedAt = this.clock.now().toISOString();
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new ExecutorError(`spawn ${file}: ${err.message}`)));
    });
    const done = new Promise<RunEnd>((resolve) => {
      child.once('close', (code, signal) => resolve({
        exit_code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null),
        reason: signal ? `killed by ${signal}` : null,
        output: output.toString(),
        started_at: startedAt,
        finished_at: this.clock.now().toISOString(),
      }));
    });
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-(child.pid ?? 0), sig);
      } catch {
        child.kill(sig);
      }
    };
    return {
      runId: `pid:${child.pid ?? 0}`,
      startedAt,
      done,
      follow: (sink) => {
        live = sink;
        return () => { live = null; };
      },
      stop: async (_reason: string, options: StopOptions = {}) => {
        signalGroup(options.kill ? 'SIGKILL' : 'SIGTERM');
        const killer = setTimeout(() => signalGroup('SIGKILL'), this.stopGraceMs);
        await done;
        clearTimeout(killer);
      },
    };
  }
}

/**
 * The host's run directory, kept across agent restarts (see ProcessExecutor), for one dispatch stream (`stream`:
 * when it was created): a dispatch can only come again from the stream that sent it, and a new cluster on the same
 * machine reuses task names and attempts. tmpfs when there is one, since creating a file on a disk-backed /tmp
 * costs a short run half again its CPU. The directories of the host's earlier streams, and files older than a day
 * (runs an earlier agent lost), are removed.
 */
export function runDirectory(host: string, stream: string, maxAgeMs = 86_400_000): string {
  const prefix = `tangerine-runs-${host}-`;
  const name = `${prefix}${stream.replace(/[^0-9A-Za-z]/g, '')}`;
  for (const base of ['/dev/shm', os.tmpdir()]) {
    const dir = path.join(base, name);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const other of readdirSync(base)) {
        if (other.startsWith(prefix) && other !== name) rmSync(path.join(base, other), { recursive: true, force: true });
      }
      const old = Date.now() - maxAgeMs;
      for (const f of readdirSync(dir)) {
        const file = path.join(dir, f);
        if (statSync(file).mtimeMs < old) rmSync(file, { force: true });
      }
      return dir;
    } catch {
      // not writable here: try the next
    }
  }
  return outputDirectory();
}

/** A directory of this process's own, for an executor without a host's run directory (tests). */
function outputDirectory(): string {
  for (const base of ['/dev/shm', os.tmpdir()]) {
    try {
      return mkdtempSync(path.join(base, 'tangerine-runs-'));
    } catch {
      // not writable here: try the next
    }
  }
  return os.tmpdir();
}
