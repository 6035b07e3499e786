import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Streams, parseTaskSpec, type TaskEvent } from '@tangerine/contracts';
import { migrate, openLedger, submitTasks, type Ledger } from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { createDatabase } from '../helpers/postgres.js';
import { ServiceProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const log = createLogger('test', { level: 'silent', pretty: false });

/** The relay as processes: a change committed whose publisher died before publishing reaches the stream, once. */
describe('relay', () => {
  let nats: NatsServer;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const relays: ServiceProcess[] = [];

  before(async () => {
    nats = await startNats();
    db = await createDatabase('relay');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    for (const r of relays) await r.kill();
    await nc?.close();
    await ledger?.close();
    await nats?.stop();
    await db?.drop();
  });

  it('publishes the event of a change no one published, once, with two replicas running, and marks it published', async () => {
    // What intake does, without its publish: as if it died right after the commit.
    const { events } = await submitTasks(ledger, [{ seq: 1, spec: parseTaskSpec({ name: 'unannounced', executor: 'process', command: ['true'] }) }], new Date());
    assert.equal(events.length, 1);
    const committed = events[0]!;
    const env = { NATS_URL: nats.url, DATABASE_URL: db.url, REPUBLISH_AFTER: '2' };
    relays.push(new ServiceProcess('relay', env).start(), new ServiceProcess('relay', env).start());
    jsm = await jetstreamManager(nc);
    await waitFor('the streams the relays provision', async () => jsm.streams.info(Streams.events.name).then(() => true, () => undefined));

    const subject = `tasks.events.${committed.name}.${committed.state}`;
    const count = async (): Promise<number> => {
      const info = await jsm.streams.info(Streams.events.name, { subjects_filter: 'tasks.events.unannounced.>' });
      return info.state.subjects?.[subject] ?? 0;
    };
    await waitFor('the event on the stream', async () => ((await count()) > 0 ? true : undefined), 30_000);
    const stored = await jsm.streams.getMessage(Streams.events.name, { last_by_subj: subject });
    const event = stored!.json<TaskEvent>();
    assert.deepEqual([event.name, event.state, event.version], [committed.name, committed.state, committed.version]);

    await waitFor('the change marked published', async () => {
      const [row] = await ledger.query<{ version: string; published_version: string }>(
        'SELECT version, published_version FROM tasks WHERE name = $1', [committed.name]);
      return row && row.published_version === row.version ? true : undefined;
    });
    // Both relays read the change before either mark reached the ledger if their ticks came close; whichever sent
    // it, the dedupe id kept one copy.
    const senders = relays.filter((r) => r.lines.some((l) => l['task'] === committed.name && l['msg'] === 'event missing from the stream; publishing it again'));
    assert.ok(senders.length >= 1, 'a relay says it published the event again');
    assert.equal(await count(), 1);
  });
});
