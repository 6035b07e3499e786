// The drain race (issue #10): once `hosts.drain` has replied, nothing new is placed on that host. The placer read which
// hosts drain every 2 s, and a task submitted right after a drain went to the draining host about half the time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subjects } from '@tangerine/contracts';
import { Cluster } from '../helpers/cluster.js';

const ROUNDS = 100;

describe('drain, then submit at once', () => {
  const cluster = new Cluster('drain-race');

  before(async () => {
    await cluster.start({ agents: [{ host: 'dr-a', executors: 'process', slots: 8 }, { host: 'dr-b', executors: 'process', slots: 8 }] });
    // Both hosts in the ledger (host-health writes heartbeats once a second).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { hosts } = await cluster.client.request<{ hosts: { host: string; state: string }[] }>(Subjects.hostsList.subject, {});
      if (hosts.filter((h) => h.state === 'up').length === 2) break;
      if (Date.now() > deadline) throw new Error(`hosts not up: ${JSON.stringify(hosts)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(() => cluster.stop());

  it(`places nothing on the draining host, ${ROUNDS} times in a row`, async () => {
    const c = cluster.client;
    const hosts: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // The host to drain alternates, so the placer's spreading would pick it about as often as not.
      const drained = i % 2 === 0 ? 'dr-a' : 'dr-b';
      const reply = await c.request<{ host: string; state: string }>(Subjects.hostsDrain.subject, { host: drained });
      assert.deepEqual(reply, { host: drained, state: 'draining' });
      c.submit({ name: `race-${i}`, executor: 'process', command: ['true'] });
      const t = await c.waitFor(`race-${i}`, (v) => v.host !== null, 20_000);
      assert.notEqual(t.host, drained, `race-${i} was placed on ${drained}, which was draining`);
      hosts.push(t.host!);
      await c.request(Subjects.hostsUndrain.subject, { host: drained });
    }
    assert.deepEqual(new Set(hosts), new Set(['dr-a', 'dr-b']), 'both hosts took work when not draining');
  });
});
