import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityName, inboxPrefix } from '@tangerine/contracts';
import type { Logger } from '@tangerine/runtime';
import { INSTANCE_LABEL } from '../demand.js';
import { ProviderError, type Provider, type ProviderInstance } from '../provider.js';

export interface LocalOptions {
  limit: number;
  min: number;
  slots: number;
  labels: Readonly<Record<string, string>>;
  prefix: string;
  /** The NATS identities' directory with `seeds/agent-<host>.nk` for every host of the pool, or null without auth. */
  identities: string | null;
  stateDir: string;
  /** The agent's entry point (services/agent/dist/main.js). */
  agentMain?: string;
  /** The autoscaler's own environment, of which the agents get what is not a secret of the services. */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
}

/** One agent process the provider started, as its file in the state directory records it. */
interface Record_ {
  instanceId: string;
  host: string;
  pid: number;
  launchedAt: string;
  terminatedAt?: string;
}

/**
 * What the autoscaler's environment must not hand to an agent: the ledger's and the services' credentials, their
 * identity (each agent gets its host's own), and what names the autoscaler's process rather than the agent's.
 */
const NOT_FOR_AGENTS = /^(DATABASE_URL|PG[A-Z_]*|NATS_(NKEY|NKEY_FILE|INBOX_PREFIX|USER|PASSWORD|TOKEN|CREDS)|SECRETS_KEY(_FILE)?|API_[A-Z_]*|SLACK_[A-Z_]*|AWS_[A-Z_]*|HOST_(ID|LABELS|SLOTS)|HEALTH_PORT|AUTOSCALER_[A-Z_]*|LOCAL_[A-Z_]*|SPOT_FLEET_[A-Z_]*|EC2_[A-Z_]*)$/;
/** A terminated instance stays listed this long, so its host (still up in the ledger until it times out) is not taken for capacity. */
const KEEP_TERMINATED_MS = 600_000;
/** An agent told to stop (SIGTERM) gets this long before SIGKILL: it is drained and empty, so it only says goodbye. */
const STOP_WAIT_MS = 15_000;
/** Agents that died are replaced at most this often: one that cannot start (a bad setting) does not respawn in a loop. */
const REPLACE_EVERY_MS = 30_000;

const DEFAULT_AGENT_MAIN = fileURLToPath(new URL('../../../agent/dist/main.js', import.meta.url));

/**
 * Agent processes on this machine (`node services/agent/dist/main.js`), one per instance, each with a host id of a
 * pool made beforehand (`<prefix>-1` … `<prefix>-<limit>`) and the label instanceId. Why a pool: with NATS identities
 * on, an agent connects as `agent-<host>`, bound to its host, and nats-server knows only identities made before it
 * (re)loaded its configuration; the autoscaler is not given the power to write nats-server's configuration, so the
 * pool's identities are made with the others (scripts/prepare.sh, the test Cluster), and a host id is reused once its
 * agent has gone. Each process is recorded in a file of LOCAL_STATE_DIR, so a restarted autoscaler (even after
 * SIGKILL: its agents live on) finds the agents it started; a graceful stop stops them.
 */
export class LocalProvider implements Provider {
  readonly name = 'local';
  readonly min: number;
  readonly max: number;
  readonly labels: Record<string, string>;
  readonly slotsPerHost: number;
  private target = 0;
  private replacedAt = Number.NEGATIVE_INFINITY;
  private readonly agentMain: string;

  constructor(private readonly opts: LocalOptions) {
    this.min = opts.min;
    this.max = opts.limit;
    this.labels = { ...opts.labels };
    this.slotsPerHost = opts.slots;
    this.agentMain = opts.agentMain ?? DEFAULT_AGENT_MAIN;
    if (!existsSync(this.agentMain)) throw new ProviderError('AgentMissing', `local provider: no agent at ${this.agentMain} (build it first)`, false);
    if (opts.identities !== null) {
      const missing = this.pool().filter((h) => !existsSync(this.seedOf(h)));
      if (missing.length > 0) {
        throw new ProviderError('IdentityMissing', `LOCAL_AGENT_IDENTITIES: no NATS identity for ${missing.map((h) => `agent-${h}`).join(', ')} in ${opts.identities}`
          + ` (make each with: npm run identities -- agent ${opts.identities} <host>, then reload nats-server)`, false);
      }
    }
    mkdirSync(opts.stateDir, { recursive: true });
    this.target = this.readTarget() ?? this.alive().length;
  }

  /** The pool of host ids. */
  pool(): string[] {
    return Array.from({ length: this.opts.limit }, (_, i) => `${this.opts.prefix}-${i + 1}`);
  }

  async describe(): Promise<{ target: number; instances: ProviderInstance[] }> {
    const now = Date.now();
    const instances: ProviderInstance[] = [];
    for (const r of this.records()) {
      if (r.terminatedAt === undefined && !this.isOurs(r)) {
        r.terminatedAt = new Date(now).toISOString();
        this.opts.log.warn({ host: r.host, instance: r.instanceId, agent_pid: r.pid }, `local agent ${r.host} exited by itself (its lines: ${r.host}.log)`);
      }
      if (r.terminatedAt !== undefined && now - Date.parse(r.terminatedAt) > KEEP_TERMINATED_MS) {
        rmSync(this.fileOf(r.instanceId), { force: true });
        continue;
      }
      this.write(r);
      instances.push({ instanceId: r.instanceId, state: r.terminatedAt === undefined ? 'running' : 'terminated', launchedAt: new Date(r.launchedAt) });
    }
    // As a Spot Fleet keeps its target capacity: an agent that died is replaced (its host id taken again).
    const running = instances.filter((i) => i.state === 'running').length;
    if (running < this.target && now - this.replacedAt >= REPLACE_EVERY_MS) {
      this.replacedAt = now;
      for (const id of this.launchUpTo(this.target, running)) instances.push({ instanceId: id, state: 'pending', launchedAt: new Date() });
    }
    return { target: this.target, instances };
  }

  /** Raises the number of agents to `target` at once; a lower target stops none (terminate does, host by host). */
  async setTarget(target: number): Promise<void> {
    if (!Number.isInteger(target) || target < 0 || target > this.max) {
      throw new ProviderError('InvalidTarget', `target: must be an integer from 0 to ${this.max} (got ${target})`, false);
    }
    this.target = target;
    writeAtomic(path.join(this.opts.stateDir, 'target'), `${target}\n`);
    this.launchUpTo(target, this.alive().length);
  }

  /** Starts agents until `target` run, on host ids of the pool no live agent has; their instance ids. */
  private launchUpTo(target: number, running: number): string[] {
    const taken = new Set(this.alive().map((r) => r.host));
    const free = this.pool().filter((h) => !taken.has(h));
    const started: string[] = [];
    for (let n = running; n < target; n++) {
      const host = free.shift();
      if (host === undefined) throw new ProviderError('PoolExhausted', `every host id of the pool (${this.opts.limit}) has an agent`, false);
      started.push(this.launch(host));
    }
    return started;
  }

  async terminate(instanceIds: string[]): Promise<void> {
    const records = this.records();
    await Promise.all(instanceIds.map(async (id) => {
      const r = records.find((x) => x.instanceId === id);
      if (!r || r.terminatedAt !== undefined) return;
      if (this.isOurs(r)) await stopProcess(r.pid);
      r.terminatedAt = new Date().toISOString();
      this.write(r);
      this.opts.log.info({ host: r.host, instance: id, agent_pid: r.pid }, 'local agent stopped');
    }));
  }

  /** A graceful stop of the autoscaler stops its agents: `npm start`'s Ctrl-C leaves no agent behind. */
  async close(): Promise<void> {
    // Target 0 first: the next start begins with none, not with the agents stopped here started again.
    this.target = 0;
    writeAtomic(path.join(this.opts.stateDir, 'target'), '0\n');
    await this.terminate(this.alive().map((r) => r.instanceId));
  }

  private launch(host: string): string {
    const instanceId = `${host}-${Date.now().toString(36)}`;
    const labels = Object.entries({ ...this.labels, [INSTANCE_LABEL]: instanceId }).map(([k, v]) => `${k}=${v}`).join(',');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.opts.env)) if (v !== undefined && !NOT_FOR_AGENTS.test(k)) env[k] = v;
    Object.assign(env, { HOST_ID: host, HOST_LABELS: labels, HOST_SLOTS: String(this.slotsPerHost), LOG_FORMAT: 'json' });
    if (this.opts.identities !== null) {
      Object.assign(env, { NATS_NKEY_FILE: this.seedOf(host), NATS_INBOX_PREFIX: inboxPrefix({ kind: 'agent', host }) });
    }
    // Its lines go to a file of its own (what it ran is read from there): the autoscaler's output stays its own.
    const log = openSync(path.join(this.opts.stateDir, `${host}.log`), 'a');
    try {
      const child = spawn(process.execPath, [this.agentMain], { env, stdio: ['ignore', log, log], detached: true });
      child.unref();
      if (child.pid === undefined) throw new ProviderError('SpawnFailed', `could not start an agent for ${host}`, true);
      this.write({ instanceId, host, pid: child.pid, launchedAt: new Date().toISOString() });
      this.opts.log.info({ host, instance: instanceId, agent_pid: child.pid }, 'local agent started');
      return instanceId;
    } finally {
      closeSync(log);
    }
  }

  private alive(): Record_[] {
    return this.records().filter((r) => r.terminatedAt === undefined && this.isOurs(r));
  }

  /** Whether the process is still this record's agent (a pid may be reused by another program). */
  private isOurs(r: Record_): boolean {
    try {
      process.kill(r.pid, 0);
    } catch {
      return false;
    }
    try {
      const environ = readFileSync(`/proc/${r.pid}/environ`, 'utf8').split('\0');
      return environ.includes(`HOST_ID=${r.host}`) && readFileSync(`/proc/${r.pid}/cmdline`, 'utf8').includes(this.agentMain);
    } catch {
      return true; // No /proc (not Linux): the signal's answer is all there is.
    }
  }

  private records(): Record_[] {
    return readdirSync(this.opts.stateDir).filter((f) => f.endsWith('.json')).flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(path.join(this.opts.stateDir, f), 'utf8')) as Record_];
      } catch {
        return [];
      }
    });
  }

  private readTarget(): number | null {
    try {
      const n = Number(readFileSync(path.join(this.opts.stateDir, 'target'), 'utf8').trim());
      return Number.isInteger(n) && n >= 0 ? Math.min(n, this.max) : null;
    } catch {
      return null;
    }
  }

  private write(r: Record_): void {
    writeAtomic(this.fileOf(r.instanceId), `${JSON.stringify(r)}\n`);
  }

  private fileOf(instanceId: string): string {
    return path.join(this.opts.stateDir, `${instanceId}.json`);
  }

  private seedOf(host: string): string {
    return path.join(this.opts.identities!, 'seeds', `${identityName({ kind: 'agent', host })}.nk`);
  }
}

/** SIGTERM, then SIGKILL after STOP_WAIT_MS; resolves once the process is gone. */
async function stopProcess(pid: number): Promise<void> {
  const gone = (): boolean => { try { process.kill(pid, 0); return false; } catch { return true; } };
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + STOP_WAIT_MS;
  while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!gone()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  while (!gone()) await new Promise((r) => setTimeout(r, 20));
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
