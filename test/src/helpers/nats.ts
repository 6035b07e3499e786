import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      // destroy, not end: the server (nats-server sends INFO at once) would keep a half-closed socket open unread.
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** A real nats-server with JetStream on a free port and a temporary store, for one test file. */
export interface NatsServer {
  url: string;
  port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and keeps its store, for an outage; `up` starts it again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** The server's log, when it runs with a configuration. */
  readonly logFile: string | null;
  /** Reads its configuration again (SIGHUP): new identities. */
  reload(): void;
}

/** `config`: a configuration file for the server (Tangerine's identities: `include auth.conf`). */
export async function startNats(opts: { config?: string } = {}): Promise<NatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-nats-'));
  let child: ChildProcess | null = null;
  // With a configuration, JetStream is declared in it, not by -js: nats-server 2.9 applies a reload (SIGHUP, new
  // identities) from the file alone and shuts JetStream down when the file does not enable it. The server's log says
  // which permission it refused to whom (the attacker suite and Cluster.stop read it).
  const args = (): string[] => {
    if (opts.config === undefined) return ['-js', '-sd', dir];
    const file = path.join(dir, 'server.conf');
    writeFileSync(file, `jetstream { store_dir: ${JSON.stringify(path.join(dir, "js"))} }\ninclude ${JSON.stringify(path.relative(dir, opts.config))}\n`);
    return ['-c', file, '-l', path.join(dir, 'server.log')];
  };
  const launch = async (): Promise<void> => {
    child = spawn('nats-server', [...args(), '-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGTERM'); });
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    logFile: opts.config !== undefined ? path.join(dir, 'server.log') : null,
    get pid() {
      return (child as ChildProcess | null)?.pid;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await launch();
    },
    down: kill,
    up: launch,
    reload() {
      (child as ChildProcess | null)?.kill('SIGHUP');
    },
  };
}
