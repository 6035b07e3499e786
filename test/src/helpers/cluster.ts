import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { TestClient } from './client.js';
import { startNats, type NatsServer } from './nats.js';
import { freePort } from './nats.js';
import { TestIdentities, roleOf } from './identities.js';
import { trackHosts } from './leak-check.js';
import { createDatabase, startPostgres, type PostgresServer } from './postgres.js';
import { ServiceProcess, type ServiceName } from './processes.js';

export const TEST_IMAGE = 'tangerine-test/busybox:latest';

/**
 * The local provider's pool for an autoscaler of this cluster (services/autoscaler providers/local.ts): host ids
 * `<prefix>-1` … `<prefix>-<size>`, whose NATS identities the cluster makes at start, as scripts/prepare.sh does for
 * `npm start`; the agents the autoscaler starts write their lines to `<stateDir>/<host>.log`.
 */
export interface LocalPool {
  prefix: string;
  size: number;
  stateDir: string;
}

/** One agent process the local provider started, as its state file records it. */
export interface LocalAgentRecord { instanceId: string; host: string; pid: number; launchedAt: string; terminatedAt?: string }

export interface AgentOptions {
  host: string;
  labels?: string;
  slots?: number;
  executors?: string;
  /** Variables of this agent alone (EC2_METADATA_URL), over the cluster's. */
  env?: Record<string, string>;
}

/**
 * A whole Tangerine for one test file: its own nats-server and database, every service as its own process,
 * and agents with their own host ids. `stop` kills everything and removes the containers its agents made.
 */
export class Cluster {
  readonly services = new Map<string, ServiceProcess>();
  readonly agents = new Map<string, ServiceProcess>();
  /** Every process the cluster started, restarts and replaced ones included: what `stop` keeps for a post-mortem. */
  private readonly started: { key: string; p: ServiceProcess }[] = [];
  client!: TestClient;
  nats!: NatsServer;
  databaseUrl = '';
  /** Set when the cluster runs a PostgreSQL of its own (`ownPostgres`), which a test may restart. */
  postgres: PostgresServer | null = null;
  private dropDb: () => Promise<void> = async () => undefined;
  readonly docker = new Docker();
  /**
   * The cluster's NATS identities: every process connects as its own (the services, each agent bound to its host),
   * with the permissions `npm start` and the stack give them; the test's own client is `admin` (a test publishes
   * what no user could, such as forged reports). Null when started with `auth: false`.
   */
  identities: TestIdentities | null = null;
  /** Set when started with `localPool`: an autoscaler started in this cluster scales agents of these host ids. */
  localPool: LocalPool | null = null;

  constructor(readonly id: string, readonly extraEnv: Record<string, string> = {}) {}

  /** Set when the services reach the ledger through PG* variables and Tangerine's PGPASS, not DATABASE_URL. */
  private pgVars: Record<string, string> | null = null;

  /**
   * The HTTP API's tokens in this cluster (API_TOKENS of its api processes): one that may write, one that may only
   * read. `httpUrl` gives where an api process listens.
   */
  readonly apiTokens = { write: randomBytes(24).toString('hex'), read: randomBytes(24).toString('hex') };

  env(): Record<string, string> {
    return {
      API_TOKENS: `${this.apiTokens.write} write test-writer\n${this.apiTokens.read} read test-reader`,
      NATS_URL: this.nats.url, ...(this.pgVars ?? { DATABASE_URL: this.databaseUrl }), HEARTBEAT_INTERVAL: '0.5', SWEEP_INTERVAL: '1', STOP_GRACE: '1', ACK_WAIT: '3', REPUBLISH_AFTER: '5',
      // As under `npm start`: the suites mount directories they made in the temporary directory.
      VOLUMES_ALLOWED: os.tmpdir(), AGENT_VOLUMES: os.tmpdir(),
      ...this.extraEnv,
    };
  }

  /** `services` are names, or `<name>-<n>` for one more replica of a service. */
  /**
   * `ownPostgres: { password }`: a PostgreSQL of its own that asks for that password over TCP; `pgpass`: the services
   * get PGHOST, PGPORT, PGUSER, PGDATABASE and PGPASS (Tangerine's name for the password) instead of DATABASE_URL.
   */
  async start(opts: {
    services?: string[]; agents?: AgentOptions[]; ownPostgres?: boolean | { password: string; pgpass?: boolean }; auth?: boolean;
    localPool?: { size: number; prefix?: string };
  } = {}): Promise<this> {
    if (opts.localPool) {
      // A prefix of its own: the agents' containers are told apart by host id, and other files' clusters run at once.
      const prefix = opts.localPool.prefix ?? `as${randomBytes(3).toString('hex')}`;
      this.localPool = { prefix, size: opts.localPool.size, stateDir: mkdtempSync(path.join(os.tmpdir(), 'tangerine-local-pool-')) };
      trackHosts(...this.poolHosts());
    }
    if (opts.auth !== false) this.identities = TestIdentities.create([...(opts.agents ?? []).map((a) => a.host), ...this.poolHosts()]);
    this.nats = await startNats(this.identities ? { config: this.identities.serverConfig } : {});
    if (opts.ownPostgres) {
      const own = typeof opts.ownPostgres === 'object' ? opts.ownPostgres : null;
      this.postgres = await startPostgres(await freePort(), own ?? {});
      this.databaseUrl = this.postgres.url;
      if (own?.pgpass) {
        const u = new URL(this.postgres.url);
        this.pgVars = { PGHOST: u.hostname, PGPORT: u.port, PGUSER: u.username, PGDATABASE: u.pathname.slice(1), PGPASS: own.password };
      }
      this.dropDb = () => this.postgres!.stop();
    } else {
      const db = await createDatabase(this.id);
      this.databaseUrl = db.url;
      this.dropDb = db.drop;
    }
    this.client = await TestClient.connect(this.nats.url, this.identities?.options({ kind: 'admin' }) ?? {});
    for (const s of opts.services ?? ['intake', 'resolver', 'placer', 'monitor', 'cron', 'host-health', 'relay', 'api']) this.startService(serviceOf(s), s);
    for (const a of opts.agents ?? []) this.startAgent(a);
    // The API answering means migrations ran and the streams exist.
    await this.waitForApi();
    // Every service, not only the api: one that hung on its way up (a CI run of 2026-12-01 had a whole file's reports
    // unread until its monitor was restarted) is named here, not found out as a task stuck 30 s later.
    for (const [key, p] of [...this.services]) await this.waitForStarted(key, p);
    for (const a of opts.agents ?? []) await this.waitForAgent(a.host);
    return this;
  }

  /** `env` overrides the cluster's for this process alone (an api whose reading is closed, say). */
  startService(name: ServiceName, key: string = name, env: Record<string, string> = {}): ServiceProcess {
    const p = new ServiceProcess(name, { ...this.env(), ...this.identityEnv(name), ...env }).start();
    this.services.set(key, p);
    this.started.push({ key, p });
    return p;
  }

  /**
   * An agent of a host the cluster's NATS does not know yet gets its identity first, and the server reloads its
   * configuration (`addAgent` waits until the identity is accepted).
   */
  async addAgent(a: AgentOptions): Promise<ServiceProcess> {
    if (this.identities?.addAgent(a.host)) await this.reloaded({ kind: 'agent', host: a.host });
    return this.startAgent(a);
  }

  /**
   * Identities for agents of hosts to come, made at once with one reload before a test asks anything: a reload while
   * a request is in flight can refuse its reply (nats-server rebuilds the responder's permissions).
   */
  async addAgentIdentities(hosts: readonly string[]): Promise<void> {
    let added = false;
    for (const host of hosts) if (this.identities?.addAgent(host)) added = true;
    if (added) await this.reloaded({ kind: 'agent', host: hosts[0]! });
  }

  /** Waits until a new identity connects: nats-server applies a reload a moment after its signal. */
  private async reloaded(role: Parameters<TestIdentities['options']>[0]): Promise<void> {
    this.nats.reload();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const nc = await this.identities!.connect(this.nats.url, role, { maxReconnectAttempts: 0, reconnect: false });
        await nc.close();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The pool's host ids, none without a pool. */
  poolHosts(): string[] {
    const pool = this.localPool;
    return pool ? Array.from({ length: pool.size }, (_, i) => `${pool.prefix}-${i + 1}`) : [];
  }

  /** What an autoscaler of this cluster scales: the local provider over the pool (the test's extraEnv may add to it). */
  private autoscalerEnv(): Record<string, string> {
    const pool = this.localPool;
    if (!pool) return {};
    return {
      AUTOSCALER_PROVIDER: 'local', LOCAL_HOST_PREFIX: pool.prefix, LOCAL_SCALE_LIMIT: String(pool.size), LOCAL_STATE_DIR: pool.stateDir,
      ...(this.identities ? { LOCAL_AGENT_IDENTITIES: this.identities.dir } : {}), ...this.extraEnv,
    };
  }

  /** Every agent process the local provider started, alive or not, from its state files. */
  localAgents(): LocalAgentRecord[] {
    const dir = this.localPool?.stateDir;
    if (!dir || !existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => f.endsWith('.json')).flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as LocalAgentRecord];
      } catch {
        return [];
      }
    });
  }

  /** The pino lines a local agent of the pool wrote (every process that had that host id, in order). */
  localAgentLines(host: string): Record<string, unknown>[] {
    const file = path.join(this.localPool?.stateDir ?? '', `${host}.log`);
    if (!this.localPool || !existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { raw: l };
      }
    });
  }

  /** Kills the local provider's agents still alive (the autoscaler was killed, or the test ends). */
  private killLocalAgents(): void {
    for (const r of this.localAgents()) {
      try {
        const environ = readFileSync(`/proc/${r.pid}/environ`, 'utf8');
        if (environ.split('\0').includes(`HOST_ID=${r.host}`)) process.kill(r.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }

  /** The environment that makes a process connect as its identity (and makes an autoscaler scale the cluster's pool). */
  private identityEnv(name: ServiceName, host?: string): Record<string, string> {
    return { ...this.identities?.env(roleOf(name, host)) ?? {}, ...(name === 'autoscaler' ? this.autoscalerEnv() : {}) };
  }

  /** An agent of a host the cluster's identities know (started with it, or added by `addAgent`). */
  startAgent(a: AgentOptions): ServiceProcess {
    trackHosts(a.host);
    if (this.identities && !this.identities.has({ kind: 'agent', host: a.host })) {
      throw new Error(`no NATS identity for host ${a.host}: start it with the cluster, or with addAgent`);
    }
    const p = new ServiceProcess('agent', {
      ...this.env(), ...this.identityEnv('agent', a.host), HOST_ID: a.host, HOST_LABELS: a.labels ?? '', HOST_SLOTS: String(a.slots ?? 4),
      AGENT_EXECUTORS: a.executors ?? 'docker,process', ...a.env,
    }).start();
    this.agents.set(a.host, p);
    this.started.push({ key: `agent-${a.host}`, p });
    return p;
  }

  /**
   * Deadlines of a cluster's start: nine processes start at once on the 2-core machine, each provisioning the
   * streams and taking its turn at the ledger's migration lock. Once, after the heavy bench and bounds files, 20 s
   * were not enough for the api (CI of 2026-12-01); a deadline only bounds a wait, so it is generous.
   */
  static readonly START_MS = 60_000;

  async waitForAgent(host: string): Promise<void> {
    await this.agents.get(host)!.waitForLine((l) => l['msg'] === 'agent ready', Cluster.START_MS);
  }

  /** Waits for a service process's `started` line; one that does not get there is named with how far it got. */
  async waitForStarted(key: string, p: ServiceProcess, timeoutMs = Cluster.START_MS, retried = false): Promise<void> {
    try {
      await p.waitForLine((l) => l['msg'] === 'started' || gaveUpOnTimeout(l), timeoutMs);
      // One that gave up on a NATS request that timed out (nine processes provision the streams at once on two
      // cores) is started again, once, as the stack's restart policy would.
      if (!retried && !p.lines.some((l) => l['msg'] === 'started') && p.lines.some(gaveUpOnTimeout) && this.services.get(key) === p) {
        await p.kill();
        return await this.waitForStarted(key, this.startService(serviceOf(key), key), timeoutMs, true);
      }
      if (!p.lines.some((l) => l['msg'] === 'started')) throw new Error('no started line');
    } catch {
      const exit = p.exit ? `exited ${String(p.exit.code ?? p.exit.signal)}` : 'running';
      const last = p.lines.slice(-5).map((l) => String(l['msg'] ?? JSON.stringify(l)).slice(0, 200));
      throw new Error(`${key} did not start within ${timeoutMs} ms (${exit}); last lines: ${JSON.stringify(last)}; stderr: ${JSON.stringify(p.stderrTail.slice(-3))}`);
    }
  }

  async waitForApi(timeoutMs = Cluster.START_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        await this.client.request('tasks.list', {});
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // What each service was doing: which one did not come up, and its last words.
    const states = [...this.services].map(([key, p]) => {
      const exit = p.child?.exitCode ?? p.child?.signalCode ?? null;
      const last = p.lines.slice(-3).map((l) => String(l['msg'] ?? JSON.stringify(l)).slice(0, 200));
      return `${key}: ${exit === null ? 'running' : `exited ${exit}`}; last lines: ${JSON.stringify(last)}`;
    });
    throw new Error(`the api service did not answer tasks.list within ${timeoutMs} ms\n${states.join('\n')}`);
  }

  /** Where the HTTP API of an api process (by its key) listens: `http://127.0.0.1:<port>`, once it does. */
  async httpUrl(key = 'api'): Promise<string> {
    const p = this.services.get(key);
    if (!p) throw new Error(`no service ${key} in this cluster`);
    const line = await p.waitForLine((l) => l['msg'] === 'http listening', Cluster.START_MS);
    return `http://127.0.0.1:${String(line['port'])}`;
  }

  /** Containers that agents of this cluster made and that still exist. */
  async containers(): Promise<Docker.ContainerInfo[]> {
    const hosts = [...this.agents.keys(), ...this.poolHosts()];
    if (hosts.length === 0) return [];
    const all = await this.docker.listContainers({ all: true, filters: { label: ['tangerine.host'] } });
    return all.filter((c) => hosts.includes(c.Labels['tangerine.host'] ?? ''));
  }

  /**
   * The containers of a task still there after the agent's cleanup had its chance: an agent removes a container
   * once its exit report is stored, which races the monitor's recording of that report (what a test waits for).
   */
  async containersLeft(task: string, withinMs = 2000): Promise<Docker.ContainerInfo[]> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const left = (await this.containers()).filter((c) => c.Labels['tangerine.task'] === task);
      if (left.length === 0 || Date.now() > deadline) return left;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Permission violations the server logged for the cluster's own processes (not the test's connections, named
   * `test-…`): a service or agent refused what it needs is a hole in the generated permissions.
   */
  serviceViolations(): string[] {
    const file = this.nats?.logFile;
    if (!file || !existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n')
      .filter((l) => /Violation/.test(l))
      .filter((l) => { const m = /"v[\d.]+:nats\.js:([^"]*)"/.exec(l); return m !== null && m[1] !== '' && !m[1]!.startsWith('test-'); });
  }

  /** Writes every process's lines under TEST_LOGS/<id>/ as `<n>-<key>.log` (n: the order they started in). */
  private keepLogs(): void {
    try {
      const dir = path.join(TEST_LOGS, this.id);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      this.started.forEach(({ key, p }, i) => {
        const exit = p.exit ? ` exit=${String(p.exit.code ?? p.exit.signal)}` : '';
        const lines = p.lines.map((l) => JSON.stringify(l));
        writeFileSync(path.join(dir, `${String(i).padStart(2, '0')}-${key}.log`), `${lines.join('\n')}\n# stderr${exit}\n${p.stderrTail.join('\n')}\n`);
      });
      const pool = this.localPool?.stateDir;
      for (const f of pool && existsSync(pool) ? readdirSync(pool).filter((n) => n.endsWith('.log')) : []) copyFileSync(path.join(pool!, f), path.join(dir, `local-${f}`));
    } catch {
      // A post-mortem aid only: a full or read-only disk must not fail the suite.
    }
  }

  async stop(): Promise<void> {
    const violations = this.serviceViolations();
    await this.client?.close();
    for (const p of [...this.agents.values(), ...this.services.values()]) await p.kill();
    this.killLocalAgents();
    for (const c of await this.containers().catch(() => [])) {
      await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    await this.nats?.stop();
    this.identities?.remove();
    await this.dropDb().catch(() => undefined);
    this.keepLogs();
    if (this.localPool) rmSync(this.localPool.stateDir, { recursive: true, force: true });
    if (violations.length > 0) throw new Error(`the cluster's processes were refused permissions:\n${violations.slice(0, 20).join('\n')}`);
  }
}

/**
 * Where `stop` leaves each process's log lines, one directory per cluster id (the previous run's replaced): CI runs a
 * clone that is deleted after, and a suite that failed there is read here afterwards. TANGERINE_TEST_LOGS moves it.
 */
export const TEST_LOGS = process.env['TANGERINE_TEST_LOGS'] ?? '/var/tmp/tangerine/test-logs';

/** The line of a process that gave up starting on a NATS request that timed out. */
function gaveUpOnTimeout(l: Record<string, unknown>): boolean {
  return l['msg'] === 'could not start' && ['TimeoutError', 'ConnectionError'].includes(String((l['err'] as { type?: unknown } | undefined)?.type));
}

/** `placer-2` → `placer`: the service a replica key runs. */
export function serviceOf(key: string): ServiceName {
  return key.replace(/-\d+$/, '') as ServiceName;
}
