import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  BUS_MIGRATIONS, BUS_MIGRATIONS_BUCKET, OUTPUT_MAX_CONSUMERS, connectBus, ensureStreams, migrateBus, streamConfig, streamSpecs,
  type BusMigration, type MigrationRecord,
} from '@tangerine/bus';
import { Streams, Subjects, isTangerineError } from '@tangerine/contracts';
import { createLogger, sleep } from '@tangerine/runtime';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

const log = createLogger('test', { level: 'silent', pretty: false });

/** A process of its own for the bus: a connection and its JetStream handles. */
interface Peer {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

async function peer(url: string): Promise<Peer> {
  const nc = await connect({ servers: url });
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

async function record(kv: KV, version: number): Promise<(MigrationRecord & { revision: number }) | null> {
  const e = await kv.get(String(version));
  return e === null || e.operation !== 'PUT' ? null : { ...e.json<MigrationRecord>(), revision: e.revision };
}

/** Migrations that count how often they ran, and (with `slowMs`) take that long. */
function counted(n: number, opts: { slowMs?: number; failFirst?: number } = {}): { list: BusMigration[]; runs: number[] } {
  const runs = Array.from({ length: n }, () => 0);
  const list = runs.map((_, i): BusMigration => ({
    version: i + 1,
    name: `step_${i + 1}`,
    up: async () => {
      runs[i]! += 1;
      if (opts.failFirst === i + 1 && runs[i] === 1) throw new Error('the first try fails');
      if (opts.slowMs) await sleep(opts.slowMs);
    },
  }));
  return { list, runs };
}

describe('bus migrations: the real list, through connectBus', () => {
  let nats: NatsServer;
  let admin: Peer;
  let kv: KV;

  before(async () => {
    nats = await startNats();
    admin = await peer(nats.url);
    await ensureStreams(admin.jsm);
  });
  after(async () => {
    await admin?.nc.close();
    await nats?.stop();
  });

  it('migration 1 deletes the retired resolver-success durable once, and records it', async () => {
    await admin.jsm.consumers.add(Streams.events.name, { durable_name: 'resolver-success', ack_policy: AckPolicy.Explicit });
    const bus = await connectBus({ url: nats.url, name: 'migrations-test', log });
    await bus.close();
    await assert.rejects(admin.jsm.consumers.info(Streams.events.name, 'resolver-success'), /not found/i);
    kv = await new Kvm(admin.js).open(BUS_MIGRATIONS_BUCKET);
    const first = await record(kv, 1);
    assert.equal(first?.state, 'applied');
    assert.equal(first?.name, BUS_MIGRATIONS[0]!.name);
    assert.match(first?.by ?? '', /^migrations-test@/);

    // Once: a durable of that name made after the migration is left alone by the next start.
    await admin.jsm.consumers.add(Streams.events.name, { durable_name: 'resolver-success', ack_policy: AckPolicy.Explicit });
    const again = await connectBus({ url: nats.url, name: 'migrations-test-2', log });
    await again.close();
    assert.equal((await admin.jsm.consumers.info(Streams.events.name, 'resolver-success')).name, 'resolver-success');
    assert.equal((await record(kv, 1))?.revision, first?.revision, 'the record is not written again');
  });
});

describe('bus migration 2: the live output stream made again with its bound on consumers', () => {
  let nats: NatsServer;
  let admin: Peer;

  before(async () => {
    nats = await startNats();
    admin = await peer(nats.url);
  });
  after(async () => {
    await admin?.nc.close();
    await nats?.stop();
  });

  it('remakes an output stream of the release before with max_consumers 1,000, once, and leaves the new one alone', async () => {
    // As the release before made it: no bound on consumers, which NATS will not add by an update.
    const old = streamSpecs().find((s) => s.name === Streams.output.name)!;
    await admin.jsm.streams.add({ ...streamConfig(old), max_consumers: -1 });
    admin.nc.publish(Subjects.liveOutput.make('h1', 'before', 1), new TextEncoder().encode('{}'));
    await waitFor('the old stream holds the chunk', async () => ((await admin.jsm.streams.info(Streams.output.name)).state.messages === 1 ? true : undefined), 5000);
    const bus = await connectBus({ url: nats.url, name: 'migration-2-test', log });
    await bus.close();
    const info = await admin.jsm.streams.info(Streams.output.name);
    assert.equal(info.config.max_consumers, OUTPUT_MAX_CONSUMERS);
    assert.equal(info.state.messages, 0, 'made again: what the old one held is gone');
    assert.deepEqual(info.config.subjects, old.subjects);
    const kv = await new Kvm(admin.js).open(BUS_MIGRATIONS_BUCKET);
    assert.equal((await record(kv, 2))?.state, 'applied');
    // Once: the stream made again keeps what it receives through the next start.
    admin.nc.publish(Subjects.liveOutput.make('h1', 'after', 1), new TextEncoder().encode('{}'));
    await waitFor('the new stream holds the chunk', async () => ((await admin.jsm.streams.info(Streams.output.name)).state.messages === 1 ? true : undefined), 5000);
    const again = await connectBus({ url: nats.url, name: 'migration-2-test-2', log });
    await again.close();
    assert.equal((await admin.jsm.streams.info(Streams.output.name)).state.messages, 1);
  });
});

describe('bus migrations: claims, concurrency and versions', () => {
  let nats: NatsServer;
  const peers: Peer[] = [];
  let kv: KV;

  before(async () => {
    nats = await startNats();
    for (let i = 0; i < 6; i++) peers.push(await peer(nats.url));
    kv = await new Kvm(peers[0]!.js).create(BUS_MIGRATIONS_BUCKET, { history: 1 });
  });
  after(async () => {
    for (const p of peers) await p.nc.close();
    await nats?.stop();
  });

  const purge = async () => {
    for await (const k of await kv.keys()) await kv.purge(k);
  };

  it('five processes starting at once apply each migration once, in order, and record it', async () => {
    await purge();
    const order: number[] = [];
    const { list, runs } = counted(3);
    const traced = list.map((m) => ({ ...m, up: async (ctx: Parameters<BusMigration['up']>[0]) => { order.push(m.version); await m.up(ctx); } }));
    const applied = await Promise.all(peers.slice(0, 5).map((p, i) => migrateBus({ ...p, log, name: `p${i}`, migrations: traced, pollMs: 10 })));
    assert.deepEqual(runs, [1, 1, 1]);
    assert.deepEqual(order, [1, 2, 3]);
    assert.deepEqual(applied.flat().sort(), [1, 2, 3], 'each version applied by exactly one of them');
    for (const v of [1, 2, 3]) assert.equal((await record(kv, v))?.state, 'applied');
  });

  it('a process with an older list starts without error and leaves the newer records as they are', async () => {
    await purge();
    const newer = counted(3);
    await migrateBus({ ...peers[0]!, log, name: 'new', migrations: newer.list });
    const before3 = await record(kv, 3);
    const older = counted(2);
    assert.deepEqual(await migrateBus({ ...peers[1]!, log, name: 'old', migrations: older.list }), []);
    assert.deepEqual(older.runs, [0, 0]);
    assert.deepEqual(await record(kv, 3), before3);
  });

  it('a claim left by a process that died is taken over once it has gone stale', async () => {
    await purge();
    const dead: MigrationRecord = { version: 1, name: 'step_1', state: 'applying', by: 'dead@nowhere:1', at: new Date().toISOString() };
    await kv.create('1', JSON.stringify(dead));
    const { list, runs } = counted(1);
    const t0 = Date.now();
    assert.deepEqual(await migrateBus({ ...peers[0]!, log, name: 'heir', migrations: list, claimTtlMs: 300, pollMs: 20 }), [1]);
    assert.ok(Date.now() - t0 >= 300, 'the claim was waited on for its time to live first');
    assert.deepEqual(runs, [1]);
    assert.match((await record(kv, 1))?.by ?? '', /^heir@/);
  });

  it('a migration slower than the claim time to live keeps its claim: the waiting process does not apply it too', async () => {
    await purge();
    const { list, runs } = counted(1, { slowMs: 1000 });
    const first = migrateBus({ ...peers[0]!, log, name: 'slow', migrations: list, claimTtlMs: 300, pollMs: 20 });
    await waitFor('the first process to claim', async () => ((await record(kv, 1))?.state === 'applying' ? true : undefined));
    const second = migrateBus({ ...peers[1]!, log, name: 'waiting', migrations: list, claimTtlMs: 300, pollMs: 20 });
    assert.deepEqual(await Promise.all([first, second]), [[1], []]);
    assert.deepEqual(runs, [1]);
  });

  it('a migration that fails is not recorded, releases its claim, and the next start applies it', async () => {
    await purge();
    const { list, runs } = counted(2, { failFirst: 2 });
    await assert.rejects(migrateBus({ ...peers[0]!, log, name: 'unlucky', migrations: list }), (err: unknown) => {
      assert.ok(isTangerineError(err));
      assert.match(err.message, /bus migration 2 \(step_2\) failed: the first try fails/);
      return true;
    });
    assert.equal((await record(kv, 1))?.state, 'applied');
    assert.equal(await record(kv, 2), null, 'the claim is released, not left to go stale');
    assert.deepEqual(await migrateBus({ ...peers[1]!, log, name: 'next', migrations: list }), [2]);
    assert.deepEqual(runs, [1, 2]);
  });

  it('refuses a list whose versions do not go 1, 2, 3 …', async () => {
    const { list } = counted(3);
    await assert.rejects(migrateBus({ ...peers[0]!, log, name: 'bad', migrations: [list[0]!, list[2]!] }), /version must be 2 \(got 3\)/);
  });
});
