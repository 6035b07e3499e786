// The fuzz suite (issue #10): thousands of bad submissions, bad cancels, garbage on every internal subject and bad
// requests on every request subject, against real services. `npm run test:fuzz` sends FUZZ_COUNT=5000 submissions;
// `npm test` a short form of 600.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Streams, Subjects, type DeadLetter, type Rejection } from '@tangerine/contracts';
import pg from 'pg';
import { Cluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';
import { badCancels, badRequests, badSubmissions, garbage } from './generate.js';

const COUNT = Number(process.env['FUZZ_COUNT'] ?? 600);
const HOST = 'fz';
const enc = new TextEncoder();
const dec = new TextDecoder();


describe('fuzz: no bad input stops Tangerine', () => {
  const cluster = new Cluster('fuzz');
  const rejections = new Map<number, Rejection[]>();
  const deadLetters = new Map<string, DeadLetter[]>();

  before(async () => {
    await cluster.start({ agents: [{ host: HOST, executors: 'process', slots: 4 }] });
    cluster.client.nc.subscribe(Subjects.rejected.subject, {
      callback: (_e, m) => {
        const r = JSON.parse(dec.decode(m.data)) as Rejection;
        if (r.seq !== null) rejections.set(r.seq, [...(rejections.get(r.seq) ?? []), r]);
      },
    });
    cluster.client.nc.subscribe(Subjects.deadLetters.wildcard, {
      callback: (_e, m) => {
        const d = JSON.parse(dec.decode(m.data)) as DeadLetter;
        const key = `${d.stream}:${d.seq}`;
        deadLetters.set(key, [...(deadLetters.get(key) ?? []), d]);
      },
    });
    await cluster.client.nc.flush();
  });
  after(() => cluster.stop());

  /** `nats req`: the publish ack gives the stream sequence, which the rejection (or dead letter) names. */
  async function publish(subject: string, data: Uint8Array): Promise<number> {
    const js = jetstream(cluster.client.nc, { timeout: 10_000 });
    return (await js.publish(subject, data)).seq;
  }

  async function publishAll(items: { subject: string; data: Uint8Array }[]): Promise<number[]> {
    const seqs: number[] = [];
    for (let i = 0; i < items.length; i += 100) {
      seqs.push(...(await Promise.all(items.slice(i, i + 100).map((x) => publish(x.subject, x.data)))));
    }
    return seqs;
  }

  it(`gives each of ${COUNT} bad submissions its rejections, naming the field`, async () => {
    const cases = badSubmissions(COUNT);
    assert.ok(cases.length >= COUNT);
    const seqs = await publishAll(cases.map((c) => ({ subject: Subjects.submit.subject, data: c.data })));
    await waitUntil(`rejections of ${cases.length} submissions`, () => seqs.every((s, i) => (rejections.get(s)?.length ?? 0) >= cases[i]!.rejections), 120_000);
    for (const [i, c] of cases.entries()) {
      const got = rejections.get(seqs[i]!) ?? [];
      assert.equal(got.length, c.rejections, `${c.label}: ${JSON.stringify(got).slice(0, 300)}`);
      for (const r of got) {
        assert.ok(r.field !== null && r.field.length > 0 && r.field.length <= 200, `${c.label}: no field in ${JSON.stringify(r).slice(0, 300)}`);
        assert.ok(r.reason.startsWith(`${r.field}: `), `${c.label}: the reason names the field: ${r.reason.slice(0, 200)}`);
        assert.ok(r.payload.length <= 512 && r.reason.length <= 1000, `${c.label}: bounded`);
        assert.notEqual(r.code, 'unprocessable', `${c.label}: refused by a rule, not by failing every try`);
      }
    }
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const rows = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM tasks WHERE name LIKE 'fz-%'");
      assert.equal(rows.rows[0]!.n, 0, 'no rejected submission left a row in the ledger');
    } finally {
      await db.end();
    }
  });

  it('gives each bad cancel one rejection', async () => {
    const cases = badCancels();
    const seqs = await publishAll(cases.map(([, text]) => ({ subject: Subjects.cancel.subject, data: enc.encode(text) })));
    await waitUntil('rejections of the cancels', () => seqs.every((s) => rejections.has(s)));
    for (const [i, [label]] of cases.entries()) {
      const got = rejections.get(seqs[i]!)!;
      assert.equal(got.length, 1, label);
      assert.ok(got[0]!.field, `${label}: names a field`);
    }
  });

  it('sets aside garbage on every internal subject, each with one dead letter', async () => {
    const subjects = [
      [Subjects.runStarted.make(HOST), Streams.reports.name], [Subjects.runExited.make(HOST), Streams.reports.name],
      // An old agent's subject (before reports carried their host), and one no one sends.
      ['runs.exited', Streams.reports.name], ['runs.unheard-of', Streams.reports.name],
      [Subjects.agentRun.make(HOST), Streams.dispatch.name], [Subjects.agentStop.make(HOST), Streams.dispatch.name],
      [Subjects.events.make('fz-ghost', 'failed'), Streams.events.name],
    ] as const;
    const sent: { subject: string; stream: string; label: string; seq: number }[] = [];
    for (const [subject, stream] of subjects) {
      for (const [label, text] of garbage()) sent.push({ subject, stream, label, seq: await publish(subject, enc.encode(text)) });
    }
    // Core NATS announcements: dropped with a log line and a metric; the real host stays up.
    for (const [, text] of garbage()) cluster.client.nc.publish(Subjects.hostAnnounce.make(HOST), enc.encode(text));
    await waitUntil('a dead letter for each', () => sent.every((s) => deadLetters.has(`${s.stream}:${s.seq}`)));
    for (const s of sent) {
      const letters = deadLetters.get(`${s.stream}:${s.seq}`)!;
      assert.equal(letters.length, 1, `${s.subject} ${s.label}`);
      assert.equal(letters[0]!.subject, s.subject);
      assert.ok(letters[0]!.reason.length > 0 && letters[0]!.payload.length <= 512);
    }
  });

  it('answers every bad request on every request subject with an error', async () => {
    const subjects = [Subjects.get, Subjects.list, Subjects.runs, Subjects.output, Subjects.hostsList, Subjects.hostsDrain, Subjects.hostsUndrain];
    for (const s of subjects) {
      for (const [label, text] of badRequests()) {
        const reply = await cluster.client.nc.request(s.subject, enc.encode(text), { timeout: 5000 });
        const body = JSON.parse(dec.decode(reply.data)) as { error?: { code: string; message: string } };
        assert.ok(body.error, `${s.subject} ${label}: ${dec.decode(reply.data).slice(0, 200)}`);
        assert.ok(['invalid_json', 'invalid_request', 'not_found'].includes(body.error.code), `${s.subject} ${label}: ${body.error.code}`);
        assert.ok(body.error.message.length <= 1000, `${s.subject} ${label}: a bounded message`);
      }
    }
  });

  it('afterwards: no process crashed, no consumer stalled, the host is up, and a valid task runs', async () => {
    for (const p of [...cluster.services.values(), ...cluster.agents.values()]) {
      assert.equal(p.child?.exitCode, null, `${p.service} is still running`);
      assert.ok(!p.lines.some((l) => l['msg'] === 'unhandled promise rejection (a bug): the process goes on'), `${p.service}: no unhandled rejection`);
    }
    const jsm = await jetstreamManager(cluster.client.nc);
    let busy: string[] = [];
    await waitUntil('every consumer to be drained', async () => {
      busy = [];
      for (const stream of [Streams.commands.name, Streams.reports.name, Streams.dispatch.name, Streams.events.name]) {
        for await (const c of jsm.consumers.list(stream)) {
          if (c.num_pending > 0 || c.num_ack_pending > 0) busy.push(`${stream}/${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacked`);
        }
      }
      return busy.length === 0;
      // A message set aside is gone at once; one that comes back until max_deliver (10 × ACK_WAIT 3 s) is a stall.
    }, 10_000).catch((err: Error) => { throw new Error(`${err.message}: ${busy.join('; ')}`); });
    // The host's own consumer goes away once no agent has read it for an hour (a host removed for good).
    const own = await jsm.consumers.info(Streams.dispatch.name, `agent-${HOST}`);
    assert.equal(own.config.inactive_threshold, 3_600_000_000_000);
    assert.equal(own.config.max_deliver, 10);
    const hosts = await cluster.client.request<{ hosts: { host: string; state: string }[] }>(Subjects.hostsList.subject, {});
    assert.equal(hosts.hosts.find((h) => h.host === HOST)?.state, 'up');
    cluster.client.submit({ name: 'after-the-storm', executor: 'process', command: ['true'] });
    const done = await cluster.client.waitForState('after-the-storm', 'success');
    assert.equal(done.host, HOST);
  });
});
