import { hostname } from 'node:os';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { BUS_MIGRATIONS_BUCKET, OutageError, Streams } from '@tangerine/contracts';
import { sleep, type Logger } from '@tangerine/runtime';
import { isConsumerNotFound, isStreamNameInUse, isStreamNotFound } from './nats-errors.js';
import { streamConfig, streamSpecs } from './streams.js';

/**
 * BUS_MIGRATIONS_BUCKET (named in libs/contracts, whose identities grant it) is the JetStream KV bucket that records
 * the bus migrations applied, one key per version (`1`, `2` …). On NATS itself, not in the ledger: the bus does not
 * depend on the ledger. A KV key gives what a migration needs: a compare-and-set on its revision. Only the services
 * provision the bus; agents wait for it (waitForStreams).
 */
export { BUS_MIGRATIONS_BUCKET };

/** What a migration may use: the bus's JetStream handles. */
export interface BusMigrationContext {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly log: Logger;
}

/**
 * A change to streams or consumers that the declarative stream specs (streamSpecs, planStreamUpdate) cannot say:
 * removing something, renaming, moving messages. Applied once, in version order, as SQL migrations are.
 */
export interface BusMigration {
  /** 1, 2, 3 …: never reused, never renumbered. */
  readonly version: number;
  /** What it does, in snake_case (recorded with the version). */
  readonly name: string;
  /**
   * The change. It must be idempotent: a process that dies between the change and its record leaves the version to
   * the next process, which applies it again. It must also leave the bus usable by the previous release, which may
   * still run beside the new one during a rolling upgrade.
   */
  up(ctx: BusMigrationContext): Promise<void>;
}

/** Every bus migration, oldest first. Append; never edit one that has shipped. */
export const BUS_MIGRATIONS: readonly BusMigration[] = [
  {
    version: 1,
    name: 'drop_resolver_success_consumer',
    // The resolver read success events through this durable until the monitor released dependents itself. The
    // resolver used to delete it on every start; it is deleted once, here.
    up: ({ jsm }) => deleteConsumer(jsm, Streams.events.name, 'resolver-success'),
  },
  {
    version: 2,
    name: 'remake_output_stream_with_max_consumers',
    // The live output's stream was made without a bound on its consumers, which NATS will not add to a stream
    // that exists: it is made again with it. What it held is lost (at most a day of running runs' output; a
    // finished run's is in the ledger); a follower reading it meanwhile falls back to hearing the run from now on.
    up: ({ jsm }) => remakeWithMaxConsumers(jsm, Streams.output.name),
  },
];

/** What a version's key holds. */
export interface MigrationRecord {
  version: number;
  name: string;
  /** `applying`: a process has claimed it and is applying it now; `applied`: done. */
  state: 'applying' | 'applied';
  /** The process that claimed or applied it (`name@host:pid`). */
  by: string;
  at: string;
}

export interface MigrateBusOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  /** Names this process in the record. */
  name: string;
  migrations?: readonly BusMigration[];
  /**
   * A claim unchanged for this long (as this process measures it) is taken to be from a process that died: it is
   * taken over. The process applying a migration renews its claim every third of this.
   */
  claimTtlMs?: number;
  /** How often a process waiting for another's claim looks again. */
  pollMs?: number;
}

/**
 * Applies the bus migrations this binary knows and the bus lacks, in version order, each once. Several processes
 * starting at once agree through compare-and-set on the version's key: one claims and applies it, the others wait
 * until it is recorded as applied. Versions recorded but unknown here (a newer release applied them) are noted
 * and not refused: during a rolling upgrade agents and services of the previous release keep starting. Gives the
 * versions this process applied.
 */
export async function migrateBus(opts: MigrateBusOptions): Promise<number[]> {
  const migrations = checkMigrations(opts.migrations ?? BUS_MIGRATIONS);
  const kv = await new Kvm(opts.js).create(BUS_MIGRATIONS_BUCKET, { history: 1 });
  const by = `${opts.name}@${hostname()}:${process.pid}`;
  const done: number[] = [];
  for (const m of migrations) {
    if (await applyOnce(kv, m, by, opts)) done.push(m.version);
  }
  // One look at the next version, not a listing of the keys: a listing opens a consumer, and a fleet of agents starts.
  const next = await kv.get(String(migrations.length + 1));
  if (next !== null && next.operation === 'PUT') {
    opts.log.info({ known: migrations.length, next: readRecord(next, { version: migrations.length + 1, name: '?' }) }, 'the bus has migrations newer than this binary; carrying on');
  }
  return done;
}

/** Versions 1, 2, 3 … with no gap and no repeat: a list that breaks this is a programming error. */
export function checkMigrations(migrations: readonly BusMigration[]): readonly BusMigration[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`bus migration ${m.name}: version must be ${i + 1} (got ${m.version}); versions go 1, 2, 3 … in order`);
    if (!/^[a-z0-9_]+$/.test(m.name)) throw new Error(`bus migration ${m.version}: name must be snake_case (got ${JSON.stringify(m.name)})`);
  });
  return migrations;
}

/** Waits for, or claims and applies, one version. True if this process applied it. */
async function applyOnce(kv: KV, m: BusMigration, by: string, opts: MigrateBusOptions): Promise<boolean> {
  const key = String(m.version);
  const ttl = opts.claimTtlMs ?? 30_000;
  const record = (state: MigrationRecord['state']): string => JSON.stringify({
    version: m.version, name: m.name, state, by, at: new Date().toISOString(),
  } satisfies MigrationRecord);
  // The claim this process waits on, and since when it has seen it unchanged.
  let seen = null as { revision: number; since: number } | null;
  for (;;) {
    const entry = await kv.get(key);
    const held = entry !== null && entry.operation === 'PUT' ? readRecord(entry, m) : null;
    if (held?.state === 'applied') return false;
    let revision: number | null;
    if (entry === null || held === null) {
      revision = await compareAndSet(() => kv.create(key, record('applying')));
    } else if (seen?.revision === entry.revision && Date.now() - seen.since >= ttl) {
      opts.log.warn({ migration: m.name, claimed_by: held.by }, 'bus migration claim went stale; taking it over');
      revision = await compareAndSet(() => kv.update(key, record('applying'), entry.revision));
    } else {
      if (seen?.revision !== entry.revision) {
        if (seen === null) opts.log.info({ migration: m.name, claimed_by: held.by }, 'waiting for another process to apply a bus migration');
        seen = { revision: entry.revision, since: Date.now() };
      }
      await sleep(opts.pollMs ?? 100);
      continue;
    }
    if (revision === null) continue; // another process claimed it first: look again
    await apply(kv, key, m, revision, record, ttl, opts);
    return true;
  }
}

/** Applies a claimed version, renewing the claim while it runs, then records it. */
async function apply(
  kv: KV, key: string, m: BusMigration, claimed: number, record: (state: MigrationRecord['state']) => string, ttl: number,
  opts: MigrateBusOptions,
): Promise<void> {
  let revision = claimed;
  let renewing: Promise<void> = Promise.resolve();
  const renew = setInterval(() => {
    renewing = renewing
      .then(async () => { revision = await kv.update(key, record('applying'), revision); })
      .catch((err: unknown) => opts.log.warn({ err, migration: m.name }, 'bus migration claim not renewed'));
  }, Math.max(1, Math.floor(ttl / 3)));
  try {
    await m.up({ js: opts.js, jsm: opts.jsm, log: opts.log });
  } catch (err) {
    clearInterval(renew);
    await renewing;
    // Released, so the next process to start tries again at once rather than after the claim goes stale.
    await kv.delete(key, { previousSeq: revision }).catch(() => undefined);
    throw new OutageError('bus_unavailable', `bus migration ${m.version} (${m.name}) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    clearInterval(renew);
  }
  await renewing;
  if (await compareAndSet(() => kv.update(key, record('applied'), revision)) === null) {
    // Our claim went stale and another process took it over: it applies the migration again (idempotent) and records it.
    opts.log.warn({ migration: m.name }, 'bus migration applied, but another process took over its claim and records it');
    return;
  }
  opts.log.info({ migration: m.name, version: m.version }, 'bus migration applied');
}

/** A KV write conditional on the key's revision: its new revision, or null if the key had moved on. */
async function compareAndSet(write: () => Promise<number>): Promise<number | null> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof JetStreamApiError
      && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) {
      return null;
    }
    throw err;
  }
}

/** A record as stored; one that cannot be read counts as a claim, taken over once it has gone stale. */
function readRecord(entry: KvEntry, m: Pick<BusMigration, 'version' | 'name'>): MigrationRecord {
  const unreadable: MigrationRecord = { version: m.version, name: m.name, state: 'applying', by: 'an unreadable record', at: '' };
  try {
    const r = entry.json<Partial<MigrationRecord>>();
    if (r.state !== 'applied' && r.state !== 'applying') return unreadable;
    return { ...unreadable, by: typeof r.by === 'string' ? r.by : unreadable.by, at: typeof r.at === 'string' ? r.at : '', state: r.state };
  } catch {
    return unreadable;
  }
}

/** Deletes a durable consumer; one already gone is what was wanted. */
/**
 * Makes a stream again when its max_consumers is not what its spec says (the one setting NATS will not update).
 * Idempotent: a process that died between the delete and the add leaves no stream, which this (or any service's
 * ensureStreams) makes; one that finds it made by another process meanwhile leaves it.
 */
async function remakeWithMaxConsumers(jsm: JetStreamManager, name: string): Promise<void> {
  const want = streamSpecs().find((s) => s.name === name);
  if (!want) throw new Error(`bus migration: no stream spec named ${name}`);
  try {
    const info = await jsm.streams.info(name);
    if ((info.config.max_consumers ?? -1) === want.max_consumers) return;
    await jsm.streams.delete(name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
  try {
    await jsm.streams.add(streamConfig(want));
  } catch (err) {
    if (!isStreamNameInUse(err)) throw err;
  }
}

async function deleteConsumer(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, durable);
  } catch (err) {
    if (!isConsumerNotFound(err)) throw err;
  }
}
