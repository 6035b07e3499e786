import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectBus, eventMessage, JetStreamPublisher, publishAll, type Bus } from '@tangerine/bus';
import { Streams, isTangerineError, type TaskEvent } from '@tangerine/contracts';
import { createLogger } from '@tangerine/runtime';
import { startNats, type NatsServer } from '../helpers/nats.js';

const enc = new TextEncoder();
const event = (name: string): TaskEvent => ({
  name, state: 'ready', from: null, attempt: 0, failures: 0, version: 1, host: null, reason: null, exit_code: null, at: new Date(0).toISOString(),
});

/** JetStream publishes through the bus's own publisher (dedupe id in a header, acks to one subscription). */
describe('JetStream publisher', () => {
  let nats: NatsServer;
  let bus: Bus;

  before(async () => {
    nats = await startNats();
    bus = await connectBus({ url: nats.url, name: 'publisher-test', log: createLogger('test', { level: 'silent', pretty: false }) });
  });
  after(async () => {
    await bus.close();
    await nats.stop();
  });

  const stored = async (subject: string): Promise<number> =>
    (await bus.jsm.streams.info(Streams.events.name, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;

  it('stores every message of a batch, and a second copy with the same id is dropped', async () => {
    await publishAll(bus, [eventMessage(event('pub-a')), eventMessage(event('pub-b'))]);
    await publishAll(bus, [eventMessage(event('pub-a'))]);
    assert.equal(await stored('tasks.events.pub-a.ready'), 1);
    assert.equal(await stored('tasks.events.pub-b.ready'), 1);
  });

  it('a subject no stream captures is refused with a retryable error naming it', async () => {
    await assert.rejects(bus.publisher.publish('nowhere.at.all', enc.encode('{}'), 'x'), (err: unknown) => {
      assert.ok(isTangerineError(err));
      assert.equal(err.code, 'bus_unavailable');
      assert.equal(err.retryable, true);
      assert.match(err.message, /nowhere\.at\.all.*status 503/);
      return true;
    });
  });

  it('a publish nobody answers fails after its time, and a retry goes through once NATS is back from a restart', async () => {
    const publisher = new JetStreamPublisher(bus.nc, 300);
    // A plain subscriber takes the message and never answers, as a stream that is away would.
    const silent = bus.nc.subscribe('silent.subject');
    try {
      await bus.nc.flush();
      await assert.rejects(publisher.publish('silent.subject', enc.encode('{}'), 'silent:1'), /silent\.subject: no answer from the stream within 300 ms/);
      await nats.restart();
      for (let i = 0; ; i++) {
        try {
          await publisher.publish('tasks.events.pub-d.ready', enc.encode('{}'), 'pub-d:1:ready');
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(await stored('tasks.events.pub-d.ready'), 1);
    } finally {
      silent.unsubscribe();
      publisher.close();
    }
  });
});
