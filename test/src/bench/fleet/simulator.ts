// A simulated fleet for the fleet benchmark (bench only, never used by the tests): one process that speaks the
// agent protocol for many host ids. It announces every host once per HEARTBEAT_INTERVAL on `hosts.announce.<host>`,
// spread evenly over the interval; takes the runs the placer sends to any of its hosts through ONE durable
// JetStream consumer (filter `agents.*.run`); and for each run publishes `runs.<host>.started`, then `runs.<host>.exited`
// with exit code 0 after `runMs`, one dedupe id per report as the real agent (services/agent/src/runs.ts).
//
// As a script (`node test/dist/bench/fleet/simulator.js`) it reads FLEET_* variables (see `fromEnv`), prints one
// JSON line `{"type":"ready"}` once its consumer is open and every host has announced once, a `stats` line every
// second, and stops on SIGTERM after a last `stats` line.
import path from 'node:path';
import { connect, createInbox, headers, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { Streams, Subjects, type HostAnnounce, type RunDispatch, type RunExited, type RunStarted } from '@tangerine/contracts';

export interface SimulatorOptions {
  natsUrl: string;
  hosts: number;
  slotsPerHost: number;
  /** How long every run takes, from its start report to its exit report. */
  runMs: number;
  heartbeatMs: number;
  /** Host ids are `<prefix><i>`, i from 0, zero-padded to 5 digits. */
  prefix: string;
  /** The durable consumer's name on TANGERINE_DISPATCH. */
  durable: string;
}

export interface SimulatorStats {
  hosts: number;
  announcements: number;
  dispatches: number;
  /** Dispatches of a run already held or finished (a redelivery): acked, nothing else. */
  duplicates: number;
  /** Dispatches for a host this simulator does not have. */
  unknownHost: number;
  started: number;
  exited: number;
  /** Runs taken while the host already held `slots` runs: the placer overbooked it. */
  overbooked: number;
  /** Most runs held at once across the fleet. */
  peakRunning: number;
  publishErrors: number;
}

/** zone z0…z9 by i % 10; size small / large by ⌊i / 10⌋ % 2, so every zone has both sizes. */
export function hostLabels(i: number): Record<string, string> {
  return { zone: `z${i % 10}`, size: Math.floor(i / 10) % 2 === 0 ? 'small' : 'large' };
}

export function hostId(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(5, '0')}`;
}

interface SimHost {
  id: string;
  labels: Record<string, string>;
  boot: string;
  /** `name:attempt` → the run. */
  running: Map<string, { name: string; attempt: number }>;
}

interface Ending {
  at: number;
  host: SimHost;
  key: string;
  report: Omit<RunExited, 'finished_at'>;
}

const TICK_MS = 10;
const enc = new TextEncoder();
const dec = new TextDecoder();

export class FleetSimulator {
  readonly stats: SimulatorStats;
  private readonly hosts: SimHost[] = [];
  private readonly byId = new Map<string, SimHost>();
  /** Runs ended and reported lately, so a redelivered dispatch changes nothing (as the agent's RecentKeys). */
  private readonly finished = new Set<string>();
  private readonly finishedOrder: string[] = [];
  /** Runs in order of their end: every run takes runMs, so the queue stays sorted by appending. */
  private endings: Ending[] = [];
  private endingsHead = 0;
  private nc: NatsConnection | null = null;
  /** JetStream publishes in flight, by the last token of their reply subject. */
  private readonly acks = new Map<number, Publish>();
  private inbox = '';
  private nextAck = 0;
  private ackSub: Subscription | null = null;
  private messages: ConsumerMessages | null = null;
  private tick: NodeJS.Timeout | null = null;
  private pump: Promise<void> | null = null;
  private announced = 0;
  private cycleStart = 0;
  private running = 0;
  private pending = 0;
  private ticks = 0;

  constructor(private readonly opts: SimulatorOptions) {
    const boot = new Date().toISOString();
    for (let i = 0; i < opts.hosts; i++) {
      const h: SimHost = { id: hostId(opts.prefix, i), labels: hostLabels(i), boot, running: new Map() };
      this.hosts.push(h);
      this.byId.set(h.id, h);
    }
    this.stats = {
      hosts: opts.hosts, announcements: 0, dispatches: 0, duplicates: 0, unknownHost: 0, started: 0, exited: 0,
      overbooked: 0, peakRunning: 0, publishErrors: 0,
    };
  }

  /** Opens the consumer, then starts announcing; resolves once every host has announced once. */
  async start(): Promise<void> {
    this.nc = await connect({ servers: this.opts.natsUrl.split(','), name: 'fleet-simulator', maxReconnectAttempts: -1, noAsyncTraces: true });
    const js = jetstream(this.nc);
    const jsm = await jetstreamManager(this.nc);
    this.inbox = createInbox();
    this.ackSub = this.nc.subscribe(`${this.inbox}.*`, { callback: (_err, m) => this.acked(m.subject, m.data) });
    // The stream is the services' (they provision it); the simulator may start first.
    for (let i = 0; ; i++) {
      try {
        await jsm.streams.info(Streams.dispatch.name);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await jsm.consumers.add(Streams.dispatch.name, {
      durable_name: this.opts.durable,
      filter_subject: Subjects.agentRun.wildcard,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000_000_000,
      max_ack_pending: 50_000,
      max_deliver: -1,
    });
    const consumer = await js.consumers.get(Streams.dispatch.name, this.opts.durable);
    this.messages = await consumer.consume({ max_messages: 2000, expires: 5000 });
    const messages = this.messages;
    this.pump = (async () => {
      for await (const m of messages) this.take(m);
    })();
    this.cycleStart = performance.now();
    this.tick = setInterval(() => this.onTick(), TICK_MS);
    while (this.stats.announcements < this.opts.hosts) await new Promise((r) => setTimeout(r, 20));
  }

  async stop(): Promise<void> {
    if (this.tick) clearInterval(this.tick);
    await this.messages?.close().catch(() => undefined);
    await this.pump?.catch(() => undefined);
    const deadline = Date.now() + 5000;
    while (this.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.ackSub?.unsubscribe();
    await this.nc?.drain().catch(() => undefined);
  }

  /** Announces the hosts whose turn has come (spread over the interval), and reports the runs whose time is up. */
  private onTick(): void {
    const now = performance.now();
    const due = Math.min(this.opts.hosts, Math.floor(((now - this.cycleStart) / this.opts.heartbeatMs) * this.opts.hosts));
    while (this.announced < due) this.announce(this.hosts[this.announced++]!);
    if (this.announced >= this.opts.hosts) {
      this.announced = 0;
      this.cycleStart += this.opts.heartbeatMs;
    }
    while (this.endingsHead < this.endings.length && this.endings[this.endingsHead]!.at <= now) this.end(this.endings[this.endingsHead++]!);
    if (this.ticks++ % 100 === 0) this.resendLost(now);
    if (this.endingsHead > 10000) {
      this.endings = this.endings.slice(this.endingsHead);
      this.endingsHead = 0;
    }
  }

  private announce(h: SimHost): void {
    const running = [...h.running.values()];
    const message: HostAnnounce = {
      host: h.id, labels: h.labels, slots: this.opts.slotsPerHost, executors: ['process'], cpu: 16, memory: 65536,
      running, free_slots: Math.max(0, this.opts.slotsPerHost - running.length), boot: h.boot, at: new Date().toISOString(),
    };
    this.nc!.publish(Subjects.hostAnnounce.make(h.id), enc.encode(JSON.stringify(message)));
    this.stats.announcements += 1;
  }

  private take(m: JsMsg): void {
    this.stats.dispatches += 1;
    let d: RunDispatch;
    try {
      d = JSON.parse(dec.decode(m.data)) as RunDispatch;
    } catch {
      m.term();
      return;
    }
    const h = this.byId.get(d.host);
    if (!h) {
      this.stats.unknownHost += 1;
      m.ack();
      return;
    }
    const key = `${d.name}:${d.attempt}`;
    if (h.running.has(key) || this.finished.has(key)) {
      this.stats.duplicates += 1;
      m.ack();
      return;
    }
    if (h.running.size >= this.opts.slotsPerHost) this.stats.overbooked += 1;
    h.running.set(key, { name: d.name, attempt: d.attempt });
    this.running += 1;
    this.stats.peakRunning = Math.max(this.stats.peakRunning, this.running);
    const startedAt = new Date().toISOString();
    const started: RunStarted = { name: d.name, attempt: d.attempt, host: h.id, run_id: `sim:${key}`, at: startedAt };
    // Acked once the start is stored, as the agent acks once its run has started.
    void this.publish(Subjects.runStarted.make(h.id), started, `started:${key}`).then(() => {
      this.stats.started += 1;
      m.ack();
    });
    this.endings.push({
      at: performance.now() + this.opts.runMs, host: h, key,
      report: { name: d.name, attempt: d.attempt, host: h.id, exit_code: 0, reason: null, output: '', started_at: startedAt },
    });
  }

  private end(e: Ending): void {
    const exited: RunExited = { ...e.report, finished_at: new Date().toISOString() };
    void this.publish(Subjects.runExited.make(e.host.id), exited, `exited:${e.key}`).then(() => {
      this.stats.exited += 1;
      e.host.running.delete(e.key);
      this.running -= 1;
      this.finished.add(e.key);
      this.finishedOrder.push(e.key);
      if (this.finishedOrder.length > 200_000) {
        for (const k of this.finishedOrder.splice(0, 100_000)) this.finished.delete(k);
      }
    });
  }

  /**
   * A JetStream publish with its dedupe id (the `Nats-Msg-Id` header), retried until stored: a report is never
   * dropped while we live. Sent as a plain publish whose reply comes to one subscription of ours, rather than
   * through `js.publish`: the client makes a request object, a timer and an Error (a stack trace) for each of
   * those, which cost the simulator more than the rest of its work, CPU taken from the services it measures.
   */
  private publish(subject: string, data: unknown, msgID: string): Promise<void> {
    this.pending += 1;
    return new Promise<void>((resolve) => {
      const p: Publish = { subject, data: enc.encode(JSON.stringify(data)), msgID, sentAt: 0, attempt: 0, done: () => {
        this.pending -= 1;
        resolve();
      } };
      this.send(p);
    });
  }

  private send(p: Publish): void {
    const id = this.nextAck++;
    p.sentAt = performance.now();
    this.acks.set(id, p);
    const h = headers();
    h.set('Nats-Msg-Id', p.msgID);
    this.nc!.publish(p.subject, p.data, { reply: `${this.inbox}.${id}`, headers: h });
  }

  /** A stream's answer: stored (or a duplicate, dropped), or an error, then sent again after a pause. */
  private acked(subject: string, data: Uint8Array): void {
    const id = Number(subject.slice(this.inbox.length + 1));
    const p = this.acks.get(id);
    if (!p) return;
    this.acks.delete(id);
    let ok = false;
    try {
      ok = data.length > 0 && (JSON.parse(dec.decode(data)) as { error?: unknown }).error === undefined;
    } catch {
      ok = false;
    }
    if (ok) p.done();
    else this.retry(p);
  }

  private retry(p: Publish): void {
    this.stats.publishErrors += 1;
    p.attempt += 1;
    setTimeout(() => this.send(p), Math.min(5000, 100 * 2 ** Math.min(p.attempt, 6)));
  }

  /** Publishes without an answer after 10 s are sent again (the dedupe id drops a copy that was stored). */
  private resendLost(now: number): void {
    for (const [id, p] of this.acks) {
      if (now - p.sentAt < 10_000) break;
      this.acks.delete(id);
      this.retry(p);
    }
  }
}

interface Publish {
  subject: string;
  data: Uint8Array;
  msgID: string;
  sentAt: number;
  attempt: number;
  done: () => void;
}

/** FLEET_NATS_URL (or NATS_URL), FLEET_HOSTS, FLEET_SLOTS, FLEET_RUN_MS, HEARTBEAT_INTERVAL (s), FLEET_PREFIX, FLEET_DURABLE. */
export function fromEnv(env: NodeJS.ProcessEnv = process.env): SimulatorOptions {
  return {
    natsUrl: env['FLEET_NATS_URL'] ?? env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    hosts: Number(env['FLEET_HOSTS'] ?? 10000),
    slotsPerHost: Number(env['FLEET_SLOTS'] ?? 4),
    runMs: Number(env['FLEET_RUN_MS'] ?? 1000),
    heartbeatMs: Math.round(Number(env['HEARTBEAT_INTERVAL'] ?? 2) * 1000),
    prefix: env['FLEET_PREFIX'] ?? 'sim-',
    durable: env['FLEET_DURABLE'] ?? 'fleet-simulator',
  };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const sim = new FleetSimulator(fromEnv());
  const line = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  let stopping = false;
  process.once('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void sim.stop().finally(() => {
      line({ type: 'stats', final: true, ...sim.stats });
      process.exit(0);
    });
  });
  await sim.start();
  line({ type: 'ready', ...sim.stats });
  setInterval(() => line({ type: 'stats', ...sim.stats }), 1000).unref();
}
