import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostAnnounce } from '@tangerine/contracts';
import type { Ledger } from '@tangerine/ledger';
import { HostView } from './hosts.js';

function announce(host: string, extra: Partial<HostAnnounce> = {}): HostAnnounce {
  return {
    host, labels: { zone: 'a' }, slots: 2, executors: ['process'], cpu: 4, memory: 1024, running: [], free_slots: 2,
    at: '2026-11-22T12:00:00.000Z', ...extra,
  };
}

function view() {
  let now = 0;
  let nudges = 0;
  const v = new HostView({ timeoutMs: 10_000, now: () => now, onNew: () => { nudges += 1; } });
  return { v, at: (t: number) => { now = t; }, nudges: () => nudges };
}

/** A ledger that answers listHosts with these rows (the placer reads nothing else through it here). */
function ledgerWith(rows: { id: string; state: string }[]): Ledger {
  return {
    query: async (_text: string, values?: unknown[]) => rows
      .filter((r) => values === undefined || r.state === values[0])
      .map((r) => ({ ...r, labels: {}, slots: 1, executors: ['process'], cpu: 0, memory: 0, boot: null, first_seen: new Date(0), last_seen: new Date(0) })),
  } as unknown as Ledger;
}

describe('HostView', () => {
  it('keeps its fleet while heartbeats change nothing placement sees', () => {
    const { v, at, nudges } = view();
    v.see(announce('h1'));
    v.see(announce('h2'));
    const fleet = v.fleet();
    assert.deepEqual(fleet.hosts.map((h) => h.id), ['h1', 'h2']);
    assert.equal(nudges(), 2, 'a new host is worth a pass');
    at(1000);
    v.see(announce('h1', { running: [{ name: 't', attempt: 1 }], free_slots: 1, at: '2026-11-22T12:00:01.000Z' }));
    assert.equal(v.fleet(), fleet, 'the same fleet: the runs a host lists are not placement\'s concern');
    assert.equal(nudges(), 2);
  });

  const changes: [string, Partial<HostAnnounce>, boolean][] = [
    ['labels', { labels: { zone: 'b' } }, false],
    ['a label added', { labels: { zone: 'a', gpu: 'true' } }, false],
    ['executors', { executors: ['docker', 'process'] }, false],
    ['slots', { slots: 3 }, true],
    ['cpu', { cpu: 8 }, false],
    ['memory', { memory: 2048 }, false],
  ];
  for (const [what, extra, nudged] of changes) {
    it(`builds its fleet again when a host changes its ${what}`, () => {
      const { v, nudges } = view();
      v.see(announce('h1'));
      const before = v.fleet();
      v.see(announce('h1', extra));
      const after = v.fleet();
      assert.notEqual(after, before);
      assert.deepEqual({ ...after.hosts[0]!.labels }, extra.labels ?? { zone: 'a' });
      assert.equal(after.hosts[0]!.slots, extra.slots ?? 2);
      assert.equal(nudges(), nudged ? 2 : 1);
    });
  }

  it('leaves out a host silent for the timeout, and takes it back when heard from again', () => {
    const { v, at, nudges } = view();
    v.see(announce('h1'));
    at(5000);
    v.see(announce('h2'));
    assert.equal(v.fleet().hosts.length, 2);
    at(10_001);
    assert.deepEqual(v.fleet().hosts.map((h) => h.id), ['h2']);
    v.see(announce('h1'));
    assert.deepEqual(v.fleet().hosts.map((h) => h.id).sort(), ['h1', 'h2']);
    assert.equal(nudges(), 3, 'a host back is worth a pass');
  });

  it('leaves out draining hosts, read again from the ledger', async () => {
    const { v } = view();
    v.see(announce('h1'));
    v.see(announce('h2'));
    const all = v.fleet();
    await v.refreshDraining(ledgerWith([{ id: 'h1', state: 'up' }, { id: 'h2', state: 'draining' }]));
    assert.deepEqual(v.fleet().hosts.map((h) => h.id), ['h1']);
    const drained = v.fleet();
    await v.refreshDraining(ledgerWith([{ id: 'h2', state: 'draining' }]));
    assert.equal(v.fleet(), drained, 'the same draining set: the same fleet');
    await v.refreshDraining(ledgerWith([]));
    assert.notEqual(v.fleet(), all);
    assert.deepEqual(v.fleet().hosts.map((h) => h.id), ['h1', 'h2']);
  });

  it('starts from the hosts the ledger knows and are not down', async () => {
    const { v } = view();
    await v.load(ledgerWith([{ id: 'h1', state: 'up' }, { id: 'h2', state: 'down' }, { id: 'h3', state: 'draining' }]));
    assert.deepEqual(v.fleet().hosts.map((h) => h.id), ['h1']);
  });
});
