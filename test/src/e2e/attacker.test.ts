// The attacker suite (issue #12): every forgery that worked on an open bus, tried from an identity that should not be
// able to do it, against a real nats-server with the generated identities. Each is refused by the server (a
// permission violation, also in the server's log) or ignored by the service it reached, and the ledger is unchanged.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { Base64UrlPaddedCodec, Objm } from '@nats-io/obj';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createUser } from '@nats-io/nkeys';
import { TangerineClient } from '@tangerine/client';
import { FILES_BUCKET, FILES_STREAM, Streams, Subjects, type Role } from '@tangerine/contracts';
import { Cluster } from '../helpers/cluster.js';

const enc = new TextEncoder();
const A = 'atk-a';
const B = 'atk-b';
const submitter: Role = { kind: 'submitter' };
const agentB: Role = { kind: 'agent', host: B };

/** A connection that records the permission violations the server sends it. */
interface Probe { nc: NatsConnection; violations: string[] }

async function probe(cluster: Cluster, role: Role): Promise<Probe> {
  const nc = await cluster.identities!.connect(cluster.nats.url, role);
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') violations.push(String(s.error?.message ?? ''));
  })();
  return { nc, violations };
}

/** Waits until the server refused this subject to this connection (deadline 5 s). */
async function refused(p: Probe, subject: string): Promise<void> {
  await p.nc.flush().catch(() => undefined);
  const deadline = Date.now() + 5000;
  while (!p.violations.some((v) => v.includes(`"${subject}"`))) {
    if (Date.now() > deadline) assert.fail(`no permission violation for ${subject}; violations: ${JSON.stringify(p.violations)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the attacker suite: forgeries from identities that may not', () => {
  const cluster = new Cluster('attacker');
  const marker = mkdtempSync(path.join(os.tmpdir(), 'tangerine-attacker-'));
  let sub: Probe;
  let agent: Probe;

  /** The victim: a task running on host A, whose state must not move. */
  const victim = 'atk-victim';
  const snapshot = async (): Promise<string> => {
    const t = await cluster.client.client.get(victim);
    return JSON.stringify({ state: t.state, attempt: t.attempt, host: t.host, failures: t.failures, updated_at: t.updated_at });
  };
  let before0 = '';

  before(async () => {
    await cluster.start({ agents: [{ host: A, executors: 'process', slots: 4 }, { host: B, executors: 'process', slots: 4 }] });
    cluster.client.submit({ name: victim, executor: 'process', command: ['sleep', '60'], constraints: {}, restartable: false });
    await cluster.client.waitForState(victim, 'running', 30_000);
    before0 = await snapshot();
    sub = await probe(cluster, submitter);
    agent = await probe(cluster, agentB);
  });
  after(async () => {
    await sub?.nc.close();
    await agent?.nc.close();
    await cluster.stop();
    rmSync(marker, { recursive: true, force: true });
  });

  it('refuses a connection without credentials, and one with a key it does not know', async () => {
    await assert.rejects(connect({ servers: cluster.nats.url, reconnect: false }), /Authorization Violation/i);
    const stranger = createUser();
    await assert.rejects(connect({ servers: cluster.nats.url, reconnect: false, authenticator: nkeyAuthenticator(stranger.getSeed()) }), /Authorization Violation/i);
  });

  it('refuses a submitter sniffing dispatches and an agent\'s replies', async () => {
    sub.nc.subscribe(Subjects.agentRun.make(A));
    await refused(sub, Subjects.agentRun.make(A));
    sub.nc.subscribe(`_INBOX_agent-${A}.>`);
    await refused(sub, `_INBOX_agent-${A}.>`);
  });

  it('refuses a forged dispatch from a submitter and from another agent, and nothing runs', async () => {
    const file = path.join(marker, 'owned');
    const forged = JSON.stringify({
      name: 'atk-forged', attempt: 1, host: A,
      spec: { name: 'atk-forged', executor: 'process', image: null, command: ['touch', file] },
    });
    sub.nc.publish(Subjects.agentRun.make(A), enc.encode(forged));
    await refused(sub, Subjects.agentRun.make(A));
    agent.nc.publish(Subjects.agentRun.make(A), enc.encode(forged));
    await refused(agent, Subjects.agentRun.make(A));
    assert.equal(existsSync(file), false, 'a forged dispatch ran');
  });

  it('refuses forged exit reports: from a submitter, and from another host\'s agent on the victim\'s host', async () => {
    const report = (host: string) => JSON.stringify({
      name: victim, attempt: 1, host, exit_code: 0, reason: null, output: '', started_at: null, finished_at: new Date().toISOString(),
    });
    sub.nc.publish(`runs.${A}.exited`, enc.encode(report(A)));
    await refused(sub, `runs.${A}.exited`);
    agent.nc.publish(`runs.${A}.exited`, enc.encode(report(A)));
    await refused(agent, `runs.${A}.exited`);
    assert.equal(await snapshot(), before0);
  });

  it('ignores an agent that reports, on its own subject, a run given to another host', async () => {
    const report = JSON.stringify({
      name: victim, attempt: 1, host: B, exit_code: 0, reason: null, output: '', started_at: null, finished_at: new Date().toISOString(),
    });
    const js = (await import('@nats-io/jetstream')).jetstream(agent.nc);
    await js.publish(`runs.${B}.exited`, enc.encode(report));
    const monitor = cluster.services.get('monitor')!;
    await monitor.waitForLine((l) => String(l['msg']).includes('refused forged report') && l['task'] === victim, 15_000);
    assert.equal(await snapshot(), before0);
  });

  it('refuses fake hosts: a submitter\'s announcement, and an agent announcing as another host', async () => {
    const announce = (host: string) => JSON.stringify({
      host, labels: {}, slots: 100_000, executors: ['process'], cpu: 0, memory: 0, running: [], free_slots: 100_000,
      boot: new Date().toISOString(), at: new Date().toISOString(),
    });
    sub.nc.publish('hosts.announce.atk-fake', enc.encode(announce('atk-fake')));
    await refused(sub, 'hosts.announce.atk-fake');
    agent.nc.publish(`hosts.announce.${A}`, enc.encode(announce(A)));
    await refused(agent, `hosts.announce.${A}`);
    const { hosts } = await cluster.client.client.hosts();
    assert.deepEqual(hosts.map((h) => h.host).sort(), [A, B]);
    assert.equal(await snapshot(), before0, 'a forged boot requeued the victim');
  });

  it('refuses forged live output: another host\'s agent, and a submitter, on the victim\'s host', async () => {
    const chunk = JSON.stringify({ name: victim, attempt: 1, host: A, offset: 0, data: 'forged\n', at: new Date().toISOString() });
    const subject = Subjects.liveOutput.make(A, victim, 1);
    agent.nc.publish(subject, enc.encode(chunk));
    await refused(agent, subject);
    sub.nc.publish(subject, enc.encode(chunk));
    await refused(sub, subject);
  });

  it('refuses stopping another host\'s run, draining as a submitter, and an agent submitting', async () => {
    sub.nc.publish(Subjects.agentStop.make(A), enc.encode(JSON.stringify({ name: victim, attempt: 1, reason: 'forged' })));
    await refused(sub, Subjects.agentStop.make(A));
    sub.nc.publish(Subjects.hostsDrain.subject, enc.encode(JSON.stringify({ host: A })));
    await refused(sub, Subjects.hostsDrain.subject);
    agent.nc.publish(Subjects.submit.subject, enc.encode(JSON.stringify({ name: 'atk-agent-submits', executor: 'process', command: ['true'] })));
    await refused(agent, Subjects.submit.subject);
    assert.equal(await snapshot(), before0);
  });

  it('refuses a forged answer to a template put, and an agent putting or reading templates', async () => {
    const forged = { name: 'atk-template', version: 1, created: true, seq: 1, at: new Date().toISOString() };
    sub.nc.publish(Subjects.templateEvents.make('atk-template'), enc.encode(JSON.stringify(forged)));
    await refused(sub, Subjects.templateEvents.make('atk-template'));
    agent.nc.publish(Subjects.templatePut.subject, enc.encode(JSON.stringify({ name: 'atk-template', spec: { image: 'x' } })));
    await refused(agent, Subjects.templatePut.subject);
    agent.nc.publish(Subjects.templateList.subject, enc.encode('{}'));
    await refused(agent, Subjects.templateList.subject);
    assert.deepEqual((await cluster.client.client.listTemplates()).templates, []);
  });

  it('keeps the JetStream API closed: no stream deleted or purged, no consumer deleted, no stored dispatch read', async () => {
    const jsm = await jetstreamManager(sub.nc);
    await assert.rejects(jsm.streams.delete(Streams.dispatch.name), /Permissions Violation/);
    await assert.rejects(jsm.streams.purge(Streams.commands.name), /Permissions Violation/);
    await assert.rejects(jsm.consumers.delete(Streams.commands.name, 'intake'), /Permissions Violation/);
    await assert.rejects(jsm.streams.getMessage(Streams.dispatch.name, { seq: 1 }), /Permissions Violation/);
    const agentJsm = await jetstreamManager(agent.nc);
    await assert.rejects(agentJsm.streams.getMessage(Streams.dispatch.name, { seq: 1 }), /Permissions Violation/);
    await assert.rejects(agentJsm.consumers.add(Streams.dispatch.name, { durable_name: `agent-${B}`, filter_subject: `agents.${A}.>` }), /Permissions Violation/);
    await assert.rejects(agentJsm.consumers.add(Streams.dispatch.name, { durable_name: `agent-${A}`, filter_subject: `agents.${A}.>` }), /Permissions Violation/);
    // Every stream is still there, and the victim's dispatch consumer with it.
    const admin = await jetstreamManager(cluster.client.nc);
    for (const s of Object.values(Streams)) assert.equal((await admin.streams.info(s.name)).config.name, s.name);
    assert.equal(await snapshot(), before0);
  });

  it('keeps the files\' store: an agent reads an object but cannot write or delete one, a submitter cannot delete one', async () => {
    const bytes = enc.encode('a file of the attacker suite');
    const file = await TangerineClient.wrap(sub.nc).putFile(bytes, { name: 'atk.txt' });
    const meta = `$O.${FILES_BUCKET}.M.${Base64UrlPaddedCodec.encode(file.sha256)}`;
    // An agent: no chunk, no metadata (a deleted marker is metadata), no purge, no message deleted.
    agent.nc.publish(`$O.${FILES_BUCKET}.C.atk`, enc.encode('forged bytes'));
    await refused(agent, `$O.${FILES_BUCKET}.C.atk`);
    agent.nc.publish(meta, enc.encode(JSON.stringify({ name: file.sha256, bucket: FILES_BUCKET, deleted: true })));
    await refused(agent, meta);
    const agentJsm = await jetstreamManager(agent.nc);
    await assert.rejects(agentJsm.streams.purge(FILES_STREAM), /Permissions Violation/);
    await assert.rejects(agentJsm.streams.deleteMessage(FILES_STREAM, 1), /Permissions Violation/);
    // A submitter: no purge of an object's chunks, no message deleted.
    const subJsm = await jetstreamManager(sub.nc);
    await assert.rejects(subJsm.streams.purge(FILES_STREAM, { filter: `$O.${FILES_BUCKET}.C.>` }), /Permissions Violation/);
    await assert.rejects(subJsm.streams.deleteMessage(FILES_STREAM, 1), /Permissions Violation/);
    // The object is whole, and the agent may read it (what it does before a run).
    const read = await (await new Objm(agent.nc).open(FILES_BUCKET)).getBlob(file.sha256);
    assert.deepEqual(read && new Uint8Array(read), bytes);
    assert.equal(await snapshot(), before0);
  });

  it('lets a submitter do its own work: submit, watch, get, list and cancel', async () => {
    const client = TangerineClient.wrap(sub.nc);
    const watch = await client.watch({ name: 'atk-own' });
    await client.submit({ name: 'atk-own', executor: 'process', command: ['sleep', '30'] }, { msgId: 'atk-own' });
    const seen: string[] = [];
    for await (const e of watch) {
      if (e.kind !== 'task') continue;
      seen.push(e.event.state);
      if (e.event.state === 'running') break;
    }
    assert.ok(seen.includes('running'), `states seen: ${seen.join(', ')}`);
    assert.equal((await client.get('atk-own')).state, 'running');
    const names: string[] = [];
    for await (const t of client.listAll({})) names.push(t.name);
    assert.ok(names.includes('atk-own'), `listed: ${names.join(', ')}`);
    await client.cancel('atk-own');
    await cluster.client.waitForState('atk-own', 'cancelled', 20_000);
    assert.deepEqual(sub.violations.filter((v) => !/agents\.|_INBOX_|runs\.|hosts\.|tasks\.submit|templates\.events\.|output\.|\$JS\.API\.(STREAM|CONSUMER)/.test(v)), []);
  });

  it('leaves the victim as it was, running where it was placed', async () => {
    assert.equal(await snapshot(), before0);
  });
});
