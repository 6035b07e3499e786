// A whole Tangerine for one benchmark: its own nats-server and database, every service its own process with a
// health port (for /metrics), and agents with their own host ids.
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { benchIdentities, roleOf } from '../helpers/identities.js';
import { freePort, startNats, type NatsServer } from '../helpers/nats.js';
import { createDatabase } from '../helpers/postgres.js';
import { ServiceProcess, type ServiceName } from '../helpers/processes.js';

export interface AgentSpec {
  host: string;
  slots: number;
  executors: string;
}

export interface BenchStack {
  nats: NatsServer;
  nc: NatsConnection;
  databaseUrl: string;
  procs: { proc: ServiceProcess; port: number; label: string }[];
  /** Ledger statements every service has run so far. */
  statements(): Promise<number>;
  /** Peak resident memory of every process so far, MB. */
  peakRss(): Record<string, number>;
  /** CPU seconds every process (with the children it reaped: an agent's runs) has used so far. */
  cpu(): Record<string, number>;
  stop(): Promise<void>;
}

// host-health writes the hosts' heartbeats to the ledger, and the placer places only on a host the ledger has up;
// the relay publishes again what a service committed but did not publish.
export const SERVICES: ServiceName[] = ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'relay'];

export async function startStack(opts: { agents: AgentSpec[]; services?: ServiceName[]; env?: Record<string, string> }): Promise<BenchStack> {
  const auth = benchIdentities(opts.agents.map((a) => a.host));
  const nats = await startNats(auth ? { config: auth.serverConfig } : {});
  const db = await createDatabase('bench');
  const procs: BenchStack['procs'] = [];
  const base = { NATS_URL: nats.url, DATABASE_URL: db.url, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', HEARTBEAT_INTERVAL: '1', ...opts.env };
  const launch = async (service: ServiceName, label: string, env: Record<string, string> = {}): Promise<void> => {
    const port = await freePort();
    const identity = auth?.env(roleOf(service, env['HOST_ID'])) ?? {};
    procs.push({ proc: new ServiceProcess(service, { ...base, ...identity, HEALTH_PORT: String(port), ...env }).start(), port, label });
  };
  for (const s of opts.services ?? SERVICES) await launch(s, s);
  for (const a of opts.agents) {
    await launch('agent', `agent(${a.host})`, { HOST_ID: a.host, HOST_SLOTS: String(a.slots), AGENT_EXECUTORS: a.executors });
  }
  await waitHealthy(procs);
  await new Promise((r) => setTimeout(r, 1500)); // agents announced, the placer has its view
  const nc = await connect({ servers: nats.url, ...auth?.options({ kind: 'admin' }) });
  return {
    nats, nc, databaseUrl: db.url, procs,
    statements: () => sumStatements(procs.map((p) => p.port)),
    peakRss: () => Object.fromEntries([
      ['nats-server', peakRssMb(nats.pid)],
      ...procs.map((p) => [p.label, peakRssMb(p.proc.child?.pid)] as const),
    ]),
    cpu: () => Object.fromEntries([
      ['nats-server', cpuSeconds(nats.pid)],
      ...procs.map((p) => [p.label, cpuSeconds(p.proc.child?.pid)] as const),
    ]),
    async stop() {
      await nc.close();
      for (const { proc } of procs) await proc.stop();
      await nats.stop();
      auth?.remove();
      await db.drop().catch(() => undefined);
    },
  };
}

export interface Launched { proc: ServiceProcess; port: number; label?: string }

/**
 * Waits until every process answers /healthz. freePort's port is free when it is picked, not when the service
 * binds it: a process that ended because another socket took it meanwhile (EADDRINUSE), or gave up starting on a
 * NATS timeout, starts again on a new port, in place in its entry. Any other end, or no answer in time, fails naming the process, how it ended and what it
 * wrote last.
 */
export async function waitHealthy(procs: Launched[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const p of procs) {
    let restarts = 0;
    for (;;) {
      if (await fetch(`http://127.0.0.1:${p.port}/healthz`).then((r) => r.ok, () => false)) break;
      const name = `${p.label ?? p.proc.service} (health port ${p.port})`;
      if (p.proc.exit) {
        if (restarts++ < 3 && (lastWords(p.proc).includes('EADDRINUSE') || startTimedOut(p.proc))) {
          p.port = await freePort();
          p.proc = new ServiceProcess(p.proc.service, { ...p.proc.env, HEALTH_PORT: String(p.port) }).start();
          continue;
        }
        throw new Error(`${name} ended (${p.proc.exit.signal ?? `exit code ${p.proc.exit.code}`}) before it was healthy:\n${lastWords(p.proc)}`);
      }
      if (Date.now() > deadline) throw new Error(`${name} did not come up within ${timeoutMs / 1000} s:\n${lastWords(p.proc)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The process gave up starting on a NATS request that timed out (nine processes provisioning the streams at once on
 * two cores: a bench of 2026-12-02 lost its placer so). The swarm stack's restart policy starts such a process
 * again; so does the bench.
 */
function startTimedOut(proc: ServiceProcess): boolean {
  return proc.lines.some((l) => l['msg'] === 'could not start' && ['TimeoutError', 'ConnectionError'].includes(String((l['err'] as { type?: unknown } | undefined)?.type)));
}

/** A process's last log lines and stderr, for a failure to name. */
function lastWords(proc: ServiceProcess): string {
  return [...proc.lines.slice(-10).map((l) => JSON.stringify(l)), ...proc.stderrTail].join('\n');
}

/** Ledger statements one service has run so far, from its /metrics (0 when it does not answer). */
export async function statementsOf(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
  const m = /tangerine_ledger_statements\{[^}]*\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

export async function sumStatements(ports: number[]): Promise<number> {
  let sum = 0;
  for (const port of ports) sum += await statementsOf(port);
  return sum;
}

/** A memory figure of a live process from /proc/<pid>/status (VmHWM: its peak, VmRSS: now), MiB; NaN when gone. */
export function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (!pid) return Number.NaN;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** VmHWM of a live process, MB (0 when gone). */
export function peakRssMb(pid: number | undefined): number {
  const mb = procStatusMb(pid, 'VmHWM');
  return Number.isNaN(mb) ? 0 : Math.round(mb);
}

/** CPU seconds (user + system) a process and its live descendants have used, with their reaped children, from /proc. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return own + children.reduce((sum, child) => sum + cpuSeconds(Number(child)), 0);
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine spent busy (all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = fields.map(Number);
  return (n[0]! + n[1]! + n[2]! + n[5]! + n[6]! + n[7]!) / 100;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Event times (`at`, ms) per task name for one state, collected from the live event stream. */
export function collectEvents(nc: NatsConnection, state: string): Map<string, number> {
  const times = new Map<string, number>();
  const dec = new TextDecoder();
  nc.subscribe(`tasks.events.*.${state}`, {
    callback: (_e, m) => {
      const e = JSON.parse(dec.decode(m.data)) as { name: string; at: string };
      if (!times.has(e.name)) times.set(e.name, Date.parse(e.at));
    },
  });
  return times;
}

export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
