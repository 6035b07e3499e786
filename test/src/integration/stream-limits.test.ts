import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import {
  connectBus, DEFAULT_EVENTS_MAX_BYTES, DEFAULT_WORK_QUEUE_MAX_BYTES, OUTPUT_MAX_CONSUMERS, encode, ensureStreams, type Bus,
} from '@tangerine/bus';
import { FILES_STREAM, Streams, isTangerineError } from '@tangerine/contracts';
import { createLogger } from '@tangerine/runtime';
import { startNats, type NatsServer } from '../helpers/nats.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const DAY_NS = 86400 * 1_000_000_000;
const enc = new TextEncoder();
const dec = new TextDecoder();
/** Publishes as a user would, with an id of its own: no definition or dedupe id of Tangerine's needed. */
const publish = (b: Bus, subject: string, data: unknown, msgId: string) => b.publisher.publish(subject, encode(data), msgId);
const submit = (n: number) => ({ name: `limit-${n}`, executor: 'process', command: ['true'], env: { PAD: 'x'.repeat(200) } });

/** ensureStreams on a real nats-server: limits brought onto streams made without them, and a full work queue refusing. */
describe('stream limits', () => {
  let nats: NatsServer;
  let bus: Bus;

  before(async () => {
    nats = await startNats();
    // The streams as the release before this one made them: work queues without max_bytes (discard old, the
    // default, never acting without a limit), the events stream at 2 GiB.
    bus = await connectBus({ url: nats.url, name: 'stream-limits-test', log, provision: false });
    const old: (Partial<StreamConfig> & { name: string })[] = [
      { ...Streams.commands, subjects: [...Streams.commands.subjects], retention: RetentionPolicy.Workqueue, max_age: 30 * DAY_NS },
      { ...Streams.dispatch, subjects: [...Streams.dispatch.subjects], retention: RetentionPolicy.Workqueue, max_age: 7 * DAY_NS },
      { ...Streams.reports, subjects: [...Streams.reports.subjects], retention: RetentionPolicy.Workqueue, max_age: 7 * DAY_NS },
      {
        ...Streams.events, subjects: [...Streams.events.subjects], retention: RetentionPolicy.Limits,
        max_age: 7 * DAY_NS, max_bytes: 2 * 1024 ** 3, discard: DiscardPolicy.Old,
      },
    ];
    for (const c of old) await bus.jsm.streams.add({ storage: StorageType.File, ...c });
  });
  after(async () => {
    await bus.close();
    await nats.stop();
  });

  const config = async (name: string) => (await bus.jsm.streams.info(name)).config;
  const state = async (name: string) => (await bus.jsm.streams.info(name)).state;

  it('brings max_bytes and discard onto streams made without them, keeping what they hold', async () => {
    await Promise.all([1, 2, 3].map((n) => publish(bus, 'tasks.submit', submit(n), `limit-${n}`)));
    const changes = await ensureStreams(bus.jsm);
    assert.deepEqual(changes.map((c) => [c.stream, c.created, c.changed.sort(), c.notes]), [
      [Streams.commands.name, false, ['discard', 'max_bytes'], []],
      [Streams.dispatch.name, false, ['discard', 'max_bytes'], []],
      [Streams.reports.name, false, ['discard', 'max_bytes'], []],
      // New since those streams were made: the dead letters' stream.
      [Streams.dead.name, true, [], []],
      // The runs' live output.
      [Streams.output.name, true, [], []],
      // And the files' object store.
      [FILES_STREAM, true, [], []],
    ]);
    for (const name of [Streams.commands.name, Streams.dispatch.name, Streams.reports.name]) {
      const c = await config(name);
      assert.deepEqual([c.max_bytes, c.discard, c.retention], [DEFAULT_WORK_QUEUE_MAX_BYTES, DiscardPolicy.New, RetentionPolicy.Workqueue], name);
    }
    const events = await config(Streams.events.name);
    assert.deepEqual([events.max_bytes, events.discard], [DEFAULT_EVENTS_MAX_BYTES, DiscardPolicy.Old]);
    assert.equal((await config(Streams.output.name)).max_consumers, OUTPUT_MAX_CONSUMERS, 'followers of live output are bounded');
    assert.equal((await state(Streams.commands.name)).messages, 3, 'the submissions waiting for intake are kept');
    assert.deepEqual(await ensureStreams(bus.jsm), [], 'a second start changes nothing');
  });

  let accepted = 0;
  it('a full work queue refuses a publish with an error, and a request gets an error reply; nothing stored is dropped', async () => {
    const held = (await state(Streams.commands.name)).bytes;
    const limit = 4096;
    assert.ok(held < limit / 2, `${held} bytes held`);
    const changes = await ensureStreams(bus.jsm, { workQueueMaxBytes: limit });
    assert.deepEqual(changes.map((c) => [c.stream, c.changed]), [
      [Streams.commands.name, ['max_bytes']], [Streams.dispatch.name, ['max_bytes']], [Streams.reports.name, ['max_bytes']],
    ]);
    assert.equal((await config(Streams.commands.name)).max_bytes, limit);
    let refusal: unknown = null;
    for (let n = 10; n < 100 && refusal === null; n++) {
      try {
        await publish(bus, 'tasks.submit', submit(n), `limit-${n}`);
        accepted += 1;
      } catch (err) {
        refusal = err;
      }
    }
    assert.ok(accepted > 0, 'some room was left');
    assert.ok(isTangerineError(refusal), String(refusal));
    assert.match(refusal.message, /publish to tasks\.submit was not stored: maximum bytes exceeded/);
    // What `nats req tasks.submit` gets: JetStream's answer, an error instead of an ack.
    const raw = dec.decode((await bus.nc.request('tasks.submit', enc.encode(JSON.stringify(submit(200))), { timeout: 5000 })).data);
    const reply = JSON.parse(raw) as { error?: { description?: string }; seq?: number };
    assert.ok(!reply.seq, raw);
    assert.match(reply.error?.description ?? '', /maximum bytes exceeded/, raw);
    const s = await state(Streams.commands.name);
    assert.deepEqual([s.first_seq, s.messages], [1, 3 + accepted], 'the oldest messages are all still there');
  });

  it('does not lower a work queue below what it holds; a process without the variable leaves a limit as set', async () => {
    const changes = await ensureStreams(bus.jsm, { workQueueMaxBytes: 2048 });
    const commands = changes.find((c) => c.stream === Streams.commands.name);
    assert.deepEqual(commands?.changed, []);
    assert.match(commands?.notes[0] ?? '', /max_bytes stays 4096 for now: the stream holds \d+ bytes, more than half of 2048/);
    assert.equal((await config(Streams.commands.name)).max_bytes, 4096);
    assert.equal((await state(Streams.commands.name)).messages, 3 + accepted, 'nothing dropped');
    // The empty work queues did take the lower limit.
    assert.equal((await config(Streams.dispatch.name)).max_bytes, 2048);
    // An agent started without STREAM_MAX_BYTES: the limits an operator set stay.
    assert.deepEqual(await ensureStreams(bus.jsm), []);
    assert.equal((await config(Streams.dispatch.name)).max_bytes, 2048);
  });

  it('a full events stream drops its oldest events and keeps taking new ones; connectBus applies EVENTS_MAX_BYTES', async () => {
    const second = await connectBus({ url: nats.url, name: 'stream-limits-events', log, limits: { eventsMaxBytes: 4096 } });
    try {
      assert.equal((await config(Streams.events.name)).max_bytes, 4096);
      const events = Array.from({ length: 40 }, (_, n) => ({ subject: `tasks.events.limit-${n}.ready`, data: submit(n), msgId: `ev-${n}` }));
      for (const e of events) await publish(second, e.subject, e.data, e.msgId);
      const s = await state(Streams.events.name);
      assert.ok(s.bytes <= 4096, `${s.bytes} bytes`);
      assert.ok(s.first_seq > 1, 'the oldest events went');
      assert.equal(s.last_seq, 40, 'every new event was taken');
    } finally {
      await second.close();
    }
  });
});
