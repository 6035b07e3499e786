import os from 'node:os';
import Docker from 'dockerode';
import { TestClient } from './client.js';
import { startNats, type NatsServer } from './nats.js';
import { freePort } from './nats.js';
import { trackHosts } from './leak-check.js';
import { createDatabase, startPostgres, type PostgresServer } from './postgres.js';
import { ServiceProcess, type ServiceName } from './processes.js';

export const TEST_IMAGE = 'tangerine-test/busybox:latest';

export interface AgentOptions {
  host: string;
  labels?: string;
  slots?: number;
  executors?: string;
}

/**
 * A whole Tangerine for one test file: its own nats-server and database, every service as its own process,
 * and agents with their own host ids. `stop` kills everything and removes the containers its agents made.
 */
export class Cluster {
  readonly services = new Map<string, ServiceProcess>();
  readonly agents = new Map<string, ServiceProcess>();
  client!: TestClient;
  nats!: NatsServer;
  databaseUrl = '';
  /** Set when the cluster runs a PostgreSQL of its own (`ownPostgres`), which a test may restart. */
  postgres: PostgresServer | null = null;
  private dropDb: () => Promise<void> = async () => undefined;
  readonly docker = new Docker();

  constructor(readonly id: string, readonly extraEnv: Record<string, string> = {}) {}

  /** Set when the services reach the ledger through PG* variables and Tangerine's PGPASS, not DATABASE_URL. */
  private pgVars: Record<string, string> | null = null;

  env(): Record<string, string> {
    return {
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
    services?: string[]; agents?: AgentOptions[]; ownPostgres?: boolean | { password: string; pgpass?: boolean };
  } = {}): Promise<this> {
    this.nats = await startNats();
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
    this.client = await TestClient.connect(this.nats.url);
    for (const s of opts.services ?? ['intake', 'resolver', 'placer', 'monitor', 'cron', 'host-health', 'relay', 'api']) this.startService(serviceOf(s), s);
    for (const a of opts.agents ?? []) this.startAgent(a);
    // The API answering means migrations ran and the streams exist.
    await this.waitForApi();
    for (const a of opts.agents ?? []) await this.waitForAgent(a.host);
    return this;
  }

  startService(name: ServiceName, key: string = name): ServiceProcess {
    const p = new ServiceProcess(name, this.env()).start();
    this.services.set(key, p);
    return p;
  }

  startAgent(a: AgentOptions): ServiceProcess {
    trackHosts(a.host);
    const p = new ServiceProcess('agent', {
      ...this.env(), HOST_ID: a.host, HOST_LABELS: a.labels ?? '', HOST_SLOTS: String(a.slots ?? 4),
      AGENT_EXECUTORS: a.executors ?? 'docker,process',
    }).start();
    this.agents.set(a.host, p);
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

  /** Containers that agents of this cluster made and that still exist. */
  async containers(): Promise<Docker.ContainerInfo[]> {
    const hosts = [...this.agents.keys()];
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

  async stop(): Promise<void> {
    await this.client?.close();
    for (const p of [...this.agents.values(), ...this.services.values()]) await p.kill();
    for (const c of await this.containers().catch(() => [])) {
      await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    await this.nats?.stop();
    await this.dropDb().catch(() => undefined);
  }
}

/** `placer-2` → `placer`: the service a replica key runs. */
export function serviceOf(key: string): ServiceName {
  return key.replace(/-\d+$/, '') as ServiceName;
}
