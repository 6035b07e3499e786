import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TurnBatch, type Logger } from '@tangerine/runtime';

const SCRIPT = fileURLToPath(new URL('../launcher.py', import.meta.url));

export type LaunchEnd = ({ exit: number; signal?: undefined } | { signal: number; exit?: undefined }) & { output: string };

interface Pending {
  started: { resolve: (pid: number) => void; reject: (err: Error) => void };
  ended: { resolve: (end: LaunchEnd) => void; promise: Promise<LaunchEnd> };
}

/**
 * A small companion process (services/agent/launcher.py) that spawns runs with posix_spawn: forking the agent
 * itself for each run costs ten times the CPU. Falls back to nothing (the caller uses Node's spawn) when python3
 * is missing.
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
    child.stderr!.on('data', (chunk: Buffer) => log.warn({ launcher: chunk.toString().trim() }, 'launcher wrote to stderr'));
    child.once('exit', (code, signal) => {
      this.alive = false;
      if (this.pending.size > 0) log.error({ code, signal, runs: this.pending.size }, 'the launcher died; its runs are lost');
      for (const [id, p] of this.pending) {
        p.started.reject(new Error('the launcher died'));
        p.ended.resolve({ signal: 9, output: '' });
        this.pending.delete(id);
      }
    });
  }

  static async start(log: Logger): Promise<Launcher | null> {
    const child = spawn('python3', [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
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

  /** Starts a run; resolves with its pid once it exists, and a promise of its end. */
  async spawn(id: string, argv: string[], env: Record<string, string>, out: string): Promise<{ pid: number; ended: Promise<LaunchEnd> }> {
    let resolveEnd!: (end: LaunchEnd) => void;
    const promise = new Promise<LaunchEnd>((r) => { resolveEnd = r; });
    const started = new Promise<number>((resolve, reject) => {
      this.pending.set(id, { started: { resolve, reject }, ended: { resolve: resolveEnd, promise } });
    });
    this.requests.add(`${JSON.stringify({ op: 'spawn', id, argv, env, out })}\n`);
    return { pid: await started, ended: promise };
  }

  kill(id: string, signal: number): void {
    if (this.alive) this.requests.add(`${JSON.stringify({ op: 'kill', id, signal })}\n`);
  }

  close(): void {
    this.child.stdin!.end();
  }

  private receive(line: string): void {
    let msg: { id: string; pid?: number; error?: string; exit?: number; signal?: number; output?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.log.warn({ line }, 'unreadable launcher line');
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.pid !== undefined) p.started.resolve(msg.pid);
    else if (msg.error !== undefined) {
      this.pending.delete(msg.id);
      p.started.reject(new Error(msg.error));
    } else {
      this.pending.delete(msg.id);
      const output = msg.output ?? '';
      p.ended.resolve(msg.exit !== undefined ? { exit: msg.exit, output } : { signal: msg.signal ?? 9, output });
    }
  }
}
