// The consumer loop of every service (libs/bus consume.ts) against a real nats-server: a poison message is set aside
// and the rest of its batch goes through; an outage longer than ack_wait is waited out with the batch in hand; a
// message that crashed its handler MAX_DELIVER times is set aside from JetStream's advisory.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { type Bus, MAX_TRIES, connectBus, consumeBatches, encode, watchMaxDeliveries } from '@tangerine/bus';
import { type DeadLetter, OutageError, Streams, Subjects, ValidationError } from '@tangerine/contracts';
import { createLogger, type Stop } from '@tangerine/runtime';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { waitUntil } from '../helpers/wait.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const dec = new TextDecoder();


describe('the consumer loop', () => {
  let nats: NatsServer;
  let bus: Bus;
  const letters: DeadLetter[] = [];
  const stops: Stop[] = [];

  before(async () => {
    nats = await startNats();
    bus = await connectBus({ url: nats.url, name: 'consumer-test', log });
    bus.nc.subscribe(Subjects.deadLetters.wildcard, { callback: (_e, m) => { letters.push(JSON.parse(dec.decode(m.data)) as DeadLetter); } });
  });
  after(async () => {
    for (const stop of stops) await stop();
    await bus.close();
    await nats.stop();
  });

  const send = (subject: string, values: unknown[]) =>
    Promise.all(values.map((data, i) => bus.publisher.publish(subject, encode(data), `${subject}:${i}:${Date.now()}`)));
  const pending = async (durable: string) => {
    const c = await bus.jsm.consumers.info(Streams.reports.name, durable);
    return c.num_pending + c.num_ack_pending;
  };

  it('sets the poison message of a batch aside, once, and handles the others', async () => {
    const handled: number[] = [];
    let calls = 0;
    stops.push(await consumeBatches<{ n: number }>({
      bus, stream: Streams.reports.name, durable: 'poison', filter: 'runs.poison', batchSize: 100, ackWaitMs: 1000, log,
      decode: (m) => JSON.parse(dec.decode(m.data)) as { n: number },
      handle: async (batch) => {
        calls += 1;
        // What stalled intake for good: an error nobody foresaw, thrown for the whole batch by one message.
        if (batch.some((d) => d.value.n === 7)) throw new RangeError('Maximum call stack size exceeded');
        handled.push(...batch.map((d) => d.value.n));
      },
    }));
    await send('runs.poison', Array.from({ length: 20 }, (_, n) => ({ n })));
    // 60 s: each part of the halving is tried MAX_TRIES times with ACK_WAIT 1 s between; on a loaded machine (CI's 2 cores) that took 20 s.
    await waitUntil('the batch settled', async () => handled.length === 19 && letters.some((l) => l.consumer === 'poison') && (await pending('poison')) === 0, 60_000);
    assert.deepEqual(handled.sort((a, b) => a - b), Array.from({ length: 20 }, (_, n) => n).filter((n) => n !== 7));
    const dead = letters.filter((l) => l.consumer === 'poison');
    assert.equal(dead.length, 1);
    assert.deepEqual([dead[0]!.subject, dead[0]!.code, dead[0]!.reason, dead[0]!.payload], ['runs.poison', 'unprocessable', 'RangeError: Maximum call stack size exceeded', '{"n":7}']);
    // Halving a batch of 20 down to the message at fault, each part tried MAX_TRIES times: far fewer calls than one per message and try.
    assert.ok(calls <= MAX_TRIES * 2 * Math.ceil(Math.log2(20)) + 20, `${calls} calls`);
  });

  it('sets a message that is not what its subject carries aside at once, without a try', async () => {
    let calls = 0;
    stops.push(await consumeBatches<{ n: number }>({
      bus, stream: Streams.reports.name, durable: 'unreadable', filter: 'runs.unreadable', batchSize: 100, ackWaitMs: 1000, log,
      decode: (m) => {
        const v = JSON.parse(dec.decode(m.data)) as { n?: unknown };
        if (typeof v.n !== 'number') throw new ValidationError('invalid_message', 'n: must be a number', { field: 'n' });
        return { n: v.n };
      },
      handle: async (batch) => { calls += batch.length; },
    }));
    await send('runs.unreadable', [{ n: 1 }, { n: 'one' }, { n: 2 }]);
    await waitUntil('settled', async () => calls === 2 && letters.some((l) => l.consumer === 'unreadable') && (await pending('unreadable')) === 0);
    const dead = letters.filter((l) => l.consumer === 'unreadable');
    assert.deepEqual(dead.map((l) => [l.code, l.reason, l.deliveries]), [['invalid_message', 'n: must be a number', 1]]);
  });

  it('waits out an outage longer than ack_wait with the batch in hand: no redelivery, nothing set aside', async () => {
    const seen: number[] = [];
    const outageUntil = Date.now() + 4000;
    let tries = 0;
    stops.push(await consumeBatches<{ n: number }>({
      bus, stream: Streams.reports.name, durable: 'outage', filter: 'runs.outage', batchSize: 100, ackWaitMs: 1000, log,
      decode: (m) => ({ n: m.info.deliveryCount }),
      handle: async (batch) => {
        tries += 1;
        if (Date.now() < outageUntil) throw new OutageError('ledger_unavailable', 'PostgreSQL is unreachable (ECONNREFUSED)');
        seen.push(...batch.map((d) => d.value.n));
      },
    }));
    await send('runs.outage', [{}, {}, {}]);
    await waitUntil('handled after the outage', async () => seen.length === 3 && (await pending('outage')) === 0);
    assert.deepEqual(seen, [1, 1, 1], 'each delivered once: four times ack_wait passed without a redelivery');
    assert.ok(tries > MAX_TRIES, `an outage does not count as a try (${tries} tries)`);
    assert.equal(letters.filter((l) => l.consumer === 'outage').length, 0);
  });

  it('sets aside, from the advisory, a message delivered MAX_DELIVER times without an answer, and takes it from the work queue', async () => {
    // A consumer whose process "crashes" on each delivery: three fetches, never acked.
    await bus.jsm.consumers.add(Streams.reports.name, {
      durable_name: 'crashing', filter_subject: 'runs.crashing', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
      ack_wait: 300 * 1_000_000, max_deliver: 3,
    });
    const setAside: { seq: number; deliveries: number; reason: string }[] = [];
    const unwatch = watchMaxDeliveries(bus, { stream: Streams.reports.name, consumer: 'crashing', workQueue: true }, log, async (facts, err) => {
      setAside.push({ seq: facts.seq, deliveries: facts.deliveries, reason: err.message });
    });
    stops.push(async () => unwatch());
    await send('runs.crashing', [{ crash: true }]);
    const consumer = await bus.js.consumers.get(Streams.reports.name, 'crashing');
    for (let i = 0; i < 3; i++) {
      const m = await consumer.next({ expires: 2000 });
      assert.ok(m, `delivery ${i + 1}`);
    }
    // A pull waiting when the fourth delivery would be due: the server gives up on the message and says so.
    await consumer.next({ expires: 2000 });
    await waitUntil('the advisory handled', () => setAside.length === 1);
    assert.equal(setAside[0]!.deliveries, 3);
    assert.match(setAside[0]!.reason, /delivered 3 times without an answer/);
    await waitUntil('the message gone from the work queue', async () =>
      (await bus.jsm.streams.getMessage(Streams.reports.name, { seq: setAside[0]!.seq }).catch(() => null)) === null);
  });
});
