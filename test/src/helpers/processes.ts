import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(new URL('.', import.meta.url).pathname, '../../..');

export type ServiceName = 'intake' | 'resolver' | 'placer' | 'monitor' | 'cron' | 'host-health' | 'relay' | 'notifier' | 'autoscaler' | 'agent' | 'api' | 'combined';

/**
 * What a process that runs the HTTP API (api, combined) needs beside its connections: a free port (many test
 * processes run at once; the port is logged as `http listening`) and a token list, which the API will not start
 * without (a test of the HTTP API gives its own: Cluster's `http`).
 */
export const HTTP_DEFAULTS: Readonly<Record<string, string>> = {
  API_PORT: '0', API_HOST: '127.0.0.1', API_TOKENS: `${randomBytes(24).toString('hex')} write test`,
};

/** One service as its own process, as it runs in a swarm. Its pino lines are kept for assertions. */
export class ServiceProcess {
  child: ChildProcess | null = null;
  readonly lines: Record<string, unknown>[] = [];
  /** The last lines it wrote to stderr (also echoed to the test's stderr): what a failure to start names. */
  readonly stderrTail: string[] = [];
  /** How it ended, once it has. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private partial = '';

  constructor(readonly service: ServiceName, readonly env: Record<string, string>) {}

  start(): this {
    const main = path.join(ROOT, 'services', this.service, 'dist', 'main.js');
    // TANGERINE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every service process of a run.
    const nodeArgs = (process.env['TANGERINE_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, main], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', LOG_LEVEL: 'info', ...HTTP_DEFAULTS, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => this.read(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(`[${this.service}] ${chunk.toString()}`);
      this.stderrTail.push(...chunk.toString().split('\n').filter((l) => l.trim()));
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 20));
    });
    child.once('exit', (code, signal) => { this.exit = { code, signal }; });
    this.exit = null;
    this.child = child;
    return this;
  }

  private read(chunk: Buffer): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      if (process.env['TANGERINE_LOG_DIR']) appendFileSync(path.join(process.env['TANGERINE_LOG_DIR'], `${this.service}-${this.child?.pid}.log`), `${line}\n`);
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ raw: line });
      }
    }
  }

  /** Waits for a log line that matches. */
  async waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs = 15000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.lines.find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.service}: no matching log line within ${timeoutMs} ms`);
  }

  /** SIGTERM and wait: a graceful stop. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL: a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(sig);
    });
  }
}
