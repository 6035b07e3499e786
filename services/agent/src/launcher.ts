import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TurnBatch, type Logger } from '@tangerine/runtime';
import type { CgroupPlan } from './cgroups.js';
import type { RunUser } from './sandbox.js';

/** The launcher's script; `Launcher.start` runs it with python3. */
export const LAUNCHER_SCRIPT = fileURLToPath(new URL('../launcher.py', import.meta.url));
/** The longest request line the launcher reads (its MAX_LINE): a longer spawn is refused here, before it is sent. */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** How a run ended. `lost`: it did not end on its own (its launcher died, and it was killed with it). */
export type LaunchEnd = ({ exit: number; signal?: undefined } | { signal: number; exit?: undefined }) & { output: string; lost?: true; oom?: true };

/** What the launcher enforces on every run it starts (see launcher.py). */
export interface LauncherSandbox {
  /** The user runs are started as; null: the launcher's own. */
  user: RunUser | null;
  /** Where each run with a cpu or memory limit gets its cgroup; null: none, such runs are refused. */
  cgroups: CgroupPlan | null;
}

/** A run's limits, enforced by its cgroup. */
export interface RunLimits {
  cpu: number | null;
  memory: number | null;
}

interface Pending {
  /** Known once the launcher has answered the spawn. */
  pid: number | null;
  started: { resolve: (pid: number) => void; reject: (err: Error) => void };
  ended: { resolve: (end: LaunchEnd) => void; promise: Promise<LaunchEnd> };
}

/** One answer line, as far as it could be read; anything else in it is ignored. */
type Answer =
  | { kind: 'pid'; id: string; pid: number }
  | { kind: 'error'; id: string; error: string }
  | { kind: 'end'; id: string; end: LaunchEnd };

/**
 * A small companion process (services/agent/launcher.py) that spawns runs with posix_spawn: forking the agent
 * itself for each run costs ten times the CPU. Falls back to nothing (the caller uses Node's spawn) when python3
 * is missing. A launcher that dies takes its runs with it: the agent could no longer learn how they end, so each is
 * killed (SIGKILL to its process group) and ends lost; the executor spawns from Node from then on.
 */
export class Launcher {
  private readonly pending = new Map<string, Pending>();
  private alive = true;
  /** Requests of one turn go to the launcher in one write. */
  private readonly requests = new TurnBatch<string>((lines) => {
    if (this.alive && !this.child.stdin!.writableEnded) this.child.stdin!.write(lines.join(''));
  });

  private constructor(private readonly child: ChildProcess, private readonly log: Logger) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => this.receive(line));
    child.stderr!.on('data', (chunk: Buffer) => log.warn({ launcher: chunk.toString().trim().slice(0, 2000) }, 'launcher wrote to stderr'));
    // A write to a launcher that just died fails with EPIPE; unhandled, that error would end the agent.
    child.stdin!.on('error', (err) => log.warn({ err }, 'could not write to the launcher'));
    child.once('exit', (code, signal) => {
      this.alive = false;
      if (this.pending.size > 0) log.error({ code, signal, runs: this.pending.size }, 'the launcher died; its runs are lost');
    });
    // Not at 'exit': the answers it wrote just before may still be unread in its stdout until 'close'.
    child.once('close', () => {
      this.alive = false;
      for (const [id, p] of this.pending) {
        if (p.pid !== null) killGroup(p.pid);
        this.end(id, p, { signal: 9, output: '', lost: true }, new Error('the launcher died'));
      }
    });
  }

  /**
   * `argv`: the launcher's command line (tests put something before the launcher itself). Its working directory,
   * which its runs inherit, is the temporary directory: one any user can enter.
   */
  static async start(log: Logger, argv: readonly string[] = ['python3', LAUNCHER_SCRIPT], sandbox: LauncherSandbox | null = null): Promise<Launcher | null> {
    const [file, ...rest] = argv as [string, ...string[]];
    const config = sandbox ? JSON.stringify({
      uid: sandbox.user?.uid ?? null, gid: sandbox.user?.gid ?? null, groups: sandbox.user?.groups ?? [], cgroups: sandbox.cgroups,
    }) : null;
    const args = config ? [...rest, '--config', config] : rest;
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: os.tmpdir() });
    const ok = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true));
      child.once('error', () => resolve(false));
    });
    if (!ok) return null;
    return new Launcher(child, log);
  }

  get running(): boolean {
    return this.alive;
  }

  /** The launcher's own pid (null once it is gone). */
  get pid(): number | null {
    return this.alive ? this.child.pid ?? null : null;
  }

  /** Starts a run; resolves with its pid once it exists, and a promise of its end. Rejects if it cannot start. */
  async spawn(
    id: string, argv: string[], env: Record<string, string>, out: string, limits: RunLimits | null = null, cwd: string | null = null,
  ): Promise<{ pid: number; ended: Promise<LaunchEnd> }> {
    if (!this.alive) throw new Error('the launcher is not running');
    if (this.pending.has(id)) throw new Error(`id: ${id} is already running`);
    const line = `${JSON.stringify({ op: 'spawn', id, argv, env, out, ...(limits ? { limits } : {}), ...(cwd !== null ? { cwd } : {}) })}\n`;
    // Length in UTF-16 units is at most the UTF-8 length; only a line near the limit is measured exactly.
    if (line.length * 3 > MAX_REQUEST_BYTES && Buffer.byteLength(line) - 1 > MAX_REQUEST_BYTES) {
      throw new Error(`command and env: take ${Buffer.byteLength(line)} bytes, more than the launcher reads (${MAX_REQUEST_BYTES})`);
    }
    let resolveEnd!: (end: LaunchEnd) => void;
    const promise = new Promise<LaunchEnd>((r) => { resolveEnd = r; });
    const started = new Promise<number>((resolve, reject) => {
      this.pending.set(id, { pid: null, started: { resolve, reject }, ended: { resolve: resolveEnd, promise } });
    });
    this.requests.add(line);
    return { pid: await started, ended: promise };
  }

  kill(id: string, signal: number): void {
    if (this.alive) this.requests.add(`${JSON.stringify({ op: 'kill', id, signal })}\n`);
  }

  close(): void {
    this.child.stdin!.end();
  }

  private end(id: string, p: Pending, end: LaunchEnd, err: Error): void {
    this.pending.delete(id);
    if (p.pid === null) p.started.reject(err);
    p.ended.resolve(end);
  }

  private receive(line: string): void {
    const answer = readAnswer(line);
    if (!answer) {
      this.log.warn({ line: line.slice(0, 500) }, 'unreadable launcher line ignored');
      return;
    }
    const p = this.pending.get(answer.id);
    if (!p) return;
    if (answer.kind === 'pid') {
      p.pid = answer.pid;
      p.started.resolve(answer.pid);
    } else if (answer.kind === 'error') {
      // An error for a run already started answers a request about it (a kill), not the run: it goes on.
      if (p.pid !== null) this.log.warn({ run: answer.id, error: answer.error }, 'the launcher refused a request');
      else {
        this.pending.delete(answer.id);
        p.started.reject(new Error(answer.error));
      }
    } else {
      // The launcher always answers a spawn with its pid first; were it not so, the spawn still gets an answer.
      this.end(answer.id, p, answer.end, new Error('the launcher reported an end before a start'));
    }
  }
}

/** A run's process group (its pid: the launcher starts each in a session of its own), if it is still there. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ended already
  }
}

/** One line of the launcher's, checked: null when it is not an answer this side can act on. */
export function readAnswer(line: string): Answer | null {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return null;
  const m = msg as Record<string, unknown>;
  if (typeof m['id'] !== 'string') return null;
  const id = m['id'];
  const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
  if (m['pid'] !== undefined) return isInt(m['pid']) && m['pid'] > 0 ? { kind: 'pid', id, pid: m['pid'] } : null;
  if (m['error'] !== undefined) return typeof m['error'] === 'string' ? { kind: 'error', id, error: m['error'] } : null;
  const output = typeof m['output'] === 'string' ? m['output'] : '';
  const oom = m['oom'] === true ? { oom: true as const } : {};
  if (isInt(m['exit'])) return { kind: 'end', id, end: { exit: m['exit'], output, ...oom } };
  if (isInt(m['signal'])) return { kind: 'end', id, end: { signal: m['signal'], output, ...oom } };
  return null;
}
