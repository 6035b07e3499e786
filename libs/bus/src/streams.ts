import {
  DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo, type StreamUpdateConfig,
} from '@nats-io/jetstream';
import { FILES_BUCKET, FILES_STREAM, OutageError, Streams } from '@tangerine/contracts';
import { sleep } from '@tangerine/runtime';
import { isStreamNameInUse, isStreamNotFound } from './nats-errors.js';

const SECOND_NS = 1_000_000_000;
const DAY_NS = 86400 * SECOND_NS;

/**
 * max_bytes of each work-queue stream (commands, dispatch, reports) when STREAM_MAX_BYTES is unset: 256 MiB, half a
 * million submissions of 500 bytes, or 4,000 exit reports with their full 64 KiB of output. NATS reserves every
 * stream's max_bytes in its JetStream storage (`max_file_store`) when it creates the stream, and refuses one that
 * does not fit: with the events stream's 2 GiB the defaults need 2.75 GiB (with 1 GiB per work queue, 5 GiB, more
 * than a small machine's free disk may give).
 */
export const DEFAULT_WORK_QUEUE_MAX_BYTES = 256 * 1024 ** 2;
/** max_bytes of the dead letters' stream. */
export const DEAD_LETTERS_MAX_BYTES = 64 * 1024 ** 2;
/** max_bytes of the events stream when EVENTS_MAX_BYTES is unset: 2 GiB, as before there were limits on the others. */
export const DEFAULT_EVENTS_MAX_BYTES = 2 * 1024 ** 3;
/**
 * max_bytes of the files' object store when FILES_STORE_MAX_BYTES is unset: 1 GiB, four tasks with the most files
 * one may have (FILES_MAX_TOTAL, 256 MiB), or 1,000 files of 1 MiB. Reserved in max_file_store like the others.
 */
export const DEFAULT_FILES_STORE_MAX_BYTES = 1024 ** 3;

/**
 * max_bytes of the live output's stream: 128 MiB, half an hour of one run printing at its agent's live cap (64 Ki
 * characters a second), or 2,000 runs' full 64 KiB. Kept a day at most: a finished run's output is in the ledger;
 * this is what lets a follower that joins a running run hear it from its start (`docker logs -f`).
 */
export const OUTPUT_MAX_BYTES = 128 * 1024 ** 2;

/**
 * Consumers the live output's stream may have at once: 1,000 followers. A follower is anyone who may submit (the
 * submitter identity reads this stream), so without a bound a stranger's loop of followers would each hold a
 * consumer on the server. Past it a follower hears the run from then on, through a core subscription
 * (client.follow), instead of from its start. nats-server 2.9 sets it only when the stream is made (an update is
 * refused: "can not change MaxConsumers"), so bus migration 2 makes an older stream again.
 */
export const OUTPUT_MAX_CONSUMERS = 1000;

/**
 * The size limits a process asks for. A limit left null (its variable unset) gives a new stream, or one without a
 * limit, the default, and leaves an existing limit as it is: a process without the variable (an agent deployed
 * with less of the environment) does not undo what an operator set on the others.
 */
export interface StreamLimits {
  workQueueMaxBytes?: number | null;
  eventsMaxBytes?: number | null;
  /** The object store of the files uploaded with tasks (FILES_STORE_MAX_BYTES). */
  filesStoreMaxBytes?: number | null;
}

/** A stream as Tangerine wants it. */
export interface StreamSpec {
  name: string;
  subjects: string[];
  retention: RetentionPolicy;
  max_age: number;
  discard: DiscardPolicy;
  max_bytes: number;
  /** max_bytes was asked for (its variable set), not a default. */
  explicit: boolean;
  /** What an object store's stream needs (nats.js's Objm makes its streams so): set at creation. */
  allow_rollup_hdrs?: boolean;
  allow_direct?: boolean;
  /** Set at creation only: NATS refuses to change it on an existing stream (a difference is noted). */
  max_consumers?: number;
}

/**
 * Commands, dispatches and reports are work queues: a message is kept until its one consumer acks it, so a
 * `nats pub tasks.submit` sent while intake is down waits for intake. A full work queue refuses what comes
 * (DiscardPolicy.New: the publisher gets an error, a `nats req` an error reply) instead of dropping accepted work
 * to make room. Events are a log that anyone may read: a full one drops its oldest.
 */
export function streamSpecs(limits: StreamLimits = {}): StreamSpec[] {
  const queue = limits.workQueueMaxBytes ?? null;
  const events = limits.eventsMaxBytes ?? null;
  const files = limits.filesStoreMaxBytes ?? null;
  const workQueue = (s: { name: string; subjects: readonly string[] }, days: number): StreamSpec => ({
    name: s.name, subjects: [...s.subjects], retention: RetentionPolicy.Workqueue, max_age: days * DAY_NS,
    discard: DiscardPolicy.New, max_bytes: queue ?? DEFAULT_WORK_QUEUE_MAX_BYTES, explicit: queue !== null,
  });
  return [
    workQueue(Streams.commands, 30),
    workQueue(Streams.dispatch, 7),
    workQueue(Streams.reports, 7),
    {
      name: Streams.events.name, subjects: [...Streams.events.subjects], retention: RetentionPolicy.Limits,
      max_age: 7 * DAY_NS, discard: DiscardPolicy.Old, max_bytes: events ?? DEFAULT_EVENTS_MAX_BYTES, explicit: events !== null,
    },
    // Dead letters are for people to read: kept a month, the oldest dropped first when it fills; 64 MiB hold more
    // than 50,000 of them (a payload is shown cut to 512 characters).
    {
      name: Streams.dead.name, subjects: [...Streams.dead.subjects], retention: RetentionPolicy.Limits,
      max_age: 30 * DAY_NS, discard: DiscardPolicy.Old, max_bytes: DEAD_LETTERS_MAX_BYTES, explicit: false,
    },
    {
      name: Streams.output.name, subjects: [...Streams.output.subjects], retention: RetentionPolicy.Limits,
      max_age: DAY_NS, discard: DiscardPolicy.Old, max_bytes: OUTPUT_MAX_BYTES, explicit: false, max_consumers: OUTPUT_MAX_CONSUMERS,
    },
    // The files' object store, made as nats.js's Objm makes one (so `Objm.open` takes it): chunks and metadata
    // subjects, rollups for the metadata, direct gets. Kept until host-health's retention deletes an object; a full
    // store refuses an upload rather than dropping a file a task still needs.
    {
      name: FILES_STREAM, subjects: [`$O.${FILES_BUCKET}.C.>`, `$O.${FILES_BUCKET}.M.>`], retention: RetentionPolicy.Limits,
      max_age: 0, discard: DiscardPolicy.New, max_bytes: files ?? DEFAULT_FILES_STORE_MAX_BYTES, explicit: files !== null,
      allow_rollup_hdrs: true, allow_direct: true,
    },
  ];
}

export interface StreamPlan {
  /** The settings to change, or null when the stream is as wanted. */
  update: Partial<StreamUpdateConfig> | null;
  /** What is not as wanted and stays so, in words. */
  notes: string[];
}

/**
 * What to change on an existing stream: subjects, max_age, discard and max_bytes. Retention and storage are never
 * changed (NATS refuses to); a difference is only noted. Lowering a work queue's max_bytes makes NATS drop its
 * oldest messages at once to fit, whatever the discard policy (nats-server 2.9.10: ten stored messages of 1 KB,
 * max_bytes set to 4,000 on update, three were left), so a work queue's limit is lowered only while it holds less
 * than half the new limit, which leaves room for what arrives meanwhile; otherwise it keeps its limit until a later
 * start finds it drained.
 */
export function planStreamUpdate(info: Pick<StreamInfo, 'config' | 'state'>, want: StreamSpec): StreamPlan {
  const have = info.config;
  const update: Partial<StreamUpdateConfig> = {};
  const notes: string[] = [];
  if (!sameSet(have.subjects ?? [], want.subjects)) update.subjects = want.subjects;
  if (have.max_age !== want.max_age) update.max_age = want.max_age;
  if (have.discard !== want.discard) update.discard = want.discard;
  const unlimited = !(have.max_bytes > 0);
  const target = want.explicit || unlimited ? want.max_bytes : have.max_bytes;
  if (target !== have.max_bytes) {
    const lowering = unlimited || target < have.max_bytes;
    if (want.retention === RetentionPolicy.Workqueue && lowering && info.state.bytes > target / 2) {
      notes.push(`max_bytes stays ${unlimited ? 'unlimited' : have.max_bytes} for now: the stream holds ${info.state.bytes} bytes, `
        + `more than half of ${target}, and NATS would drop the oldest messages to fit a lower limit`);
    } else {
      update.max_bytes = target;
    }
  }
  if (have.retention !== want.retention) {
    notes.push(`retention is ${have.retention}, not ${want.retention}: NATS cannot change it (only a new stream can)`);
  }
  if (have.storage !== StorageType.File) notes.push(`storage is ${have.storage}, not file: NATS cannot change it`);
  const consumers = (n: number | undefined) => (n !== undefined && n > 0 ? String(n) : 'unlimited');
  if (want.max_consumers !== undefined && consumers(have.max_consumers) !== consumers(want.max_consumers)) {
    notes.push(`max_consumers is ${consumers(have.max_consumers)}, not ${want.max_consumers}: NATS sets it only when a stream is made`);
  }
  return { update: Object.keys(update).length > 0 ? update : null, notes };
}

export interface StreamChange {
  stream: string;
  created: boolean;
  /** The settings changed on an existing stream. */
  changed: string[];
  notes: string[];
}

/**
 * Creates the streams, or brings an existing one's subjects, max_age, discard and max_bytes up to date (so an
 * upgrade applies them). Safe when several services start at once: each change is the same for all of them.
 * Declared, not migrated: these settings converge whoever applies them and however often, and a declaration says
 * what a stream is now, where a list of changes would have to be replayed to know it. A change a declaration cannot
 * say (removing a consumer, rebuilding a stream with another retention, moving messages) is a bus migration
 * (migrations.ts), applied once after this.
 */
export async function ensureStreams(jsm: JetStreamManager, limits: StreamLimits = {}): Promise<StreamChange[]> {
  const changes: StreamChange[] = [];
  for (const want of streamSpecs(limits)) {
    const full = streamConfig(want);
    let info: StreamInfo;
    try {
      info = await jsm.streams.info(want.name);
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
      try {
        await jsm.streams.add(full);
        changes.push({ stream: want.name, created: true, changed: [], notes: [] });
      } catch (addErr) {
        // Another process created it between our look and our add.
        if (!isStreamNameInUse(addErr)) throw refused(want, 'create', addErr);
      }
      continue;
    }
    const plan = planStreamUpdate(info, want);
    if (plan.update) {
      try {
        await jsm.streams.update(want.name, plan.update);
      } catch (err) {
        throw refused(want, `update ${JSON.stringify(plan.update)}`, err);
      }
    }
    if (plan.update || plan.notes.length > 0) {
      changes.push({ stream: want.name, created: false, changed: Object.keys(plan.update ?? {}), notes: plan.notes });
    }
  }
  return changes;
}

/** The configuration a stream is made with. */
export function streamConfig(want: StreamSpec): Partial<StreamConfig> & { name: string } {
  const { explicit: _explicit, ...config } = want;
  return { storage: StorageType.File, duplicate_window: 120 * SECOND_NS, ...config };
}

function refused(want: StreamSpec, what: string, cause: unknown): OutageError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new OutageError('bus_unavailable', `stream ${want.name}: NATS refused to ${what} (max_bytes ${want.max_bytes}): ${reason}`, { cause });
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}

/**
 * Waits until each of these streams exists, for a process that may not provision them (an agent: its
 * identity has no stream API). Logs once while it waits; an error other than "not found" (a permission refused, an
 * outage) is thrown.
 */
export async function waitForStreams(
  jsm: JetStreamManager, names: readonly string[], log: { warn(obj: object, msg: string): void },
): Promise<void> {
  let told = false;
  for (const name of names) {
    for (;;) {
      try {
        await jsm.streams.info(name);
        break;
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
        if (!told) log.warn({ stream: name }, 'waiting for the streams: a service provisions them');
        told = true;
        await sleep(500);
      }
    }
  }
}
