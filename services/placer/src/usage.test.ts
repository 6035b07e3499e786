import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageView } from './usage.js';

const run = (name: string, host: string, attempt = 1, cpu: number | null = null, memory: number | null = null) =>
  ({ name, host, attempt, cpu, memory });

describe('UsageView', () => {
  it('sums slots, cpu and memory per host', () => {
    const u = new UsageView(1000);
    u.replace([run('a', 'h1', 1, 0.5, 100), run('b', 'h1', 1, 1, null), run('c', 'h2')], 0);
    assert.deepEqual(u.totals().sort((x, y) => x.host.localeCompare(y.host)), [
      { host: 'h1', used: 2, cpu: 1.5, memory: 100 },
      { host: 'h2', used: 1, cpu: 0, memory: 0 },
    ]);
  });

  const cases: [string, number, number, boolean][] = [
    ['the same attempt ended', 2, 2, true],
    ['a later attempt ended', 2, 3, true],
    ['a late event of an earlier attempt', 2, 1, false],
  ];
  for (const [label, tracked, ended, freed] of cases) {
    it(`release: ${label} → ${freed ? 'freed' : 'kept'}`, () => {
      const u = new UsageView(1000);
      u.add(run('t', 'h1', tracked));
      assert.equal(u.release('t', ended), freed);
      assert.equal(u.totals().length, freed ? 0 : 1);
    });
  }

  it('ignores the end of a run it does not hold', () => {
    const u = new UsageView(1000);
    assert.equal(u.release('unknown', 1), false);
  });

  it('is stale until filled, then again after maxAge', () => {
    const u = new UsageView(1000);
    assert.equal(u.stale(0), true);
    u.replace([], 5000);
    assert.equal(u.stale(5999), false);
    assert.equal(u.stale(6000), true);
  });

  it('replace drops what a missed event left behind', () => {
    const u = new UsageView(1000);
    u.add(run('gone', 'h1'));
    u.replace([run('kept', 'h2')], 0);
    assert.deepEqual(u.totals().map((t) => t.host), ['h2']);
  });
});

describe('UsageView loads: the totals by host, kept as runs come and go', () => {
  it('follows adds, a newer attempt of the same task, releases and a replace', () => {
    const u = new UsageView(1000);
    u.add(run('a', 'h1', 1, 0.5, 100));
    u.add(run('b', 'h1', 1, 1, null));
    u.add(run('c', 'h2'));
    assert.deepEqual(u.loads().get('h1'), { host: 'h1', used: 2, cpu: 1.5, memory: 100 });
    // Placed again elsewhere (a requeue): the old run's slot is not counted twice.
    u.add(run('a', 'h2', 2, 0.5, 100));
    assert.deepEqual(u.loads().get('h1'), { host: 'h1', used: 1, cpu: 1, memory: 0 });
    assert.deepEqual(u.loads().get('h2'), { host: 'h2', used: 2, cpu: 0.5, memory: 100 });
    assert.equal(u.release('b', 1), true);
    assert.equal(u.loads().has('h1'), false, 'an empty host leaves the map');
    u.replace([run('z', 'h3')], 0);
    assert.deepEqual([...u.loads().keys()], ['h3']);
  });

  it('agrees with the totals summed from scratch after many changes', () => {
    const u = new UsageView(1000);
    for (let i = 0; i < 500; i++) {
      u.add(run(`t${i % 97}`, `h${i % 7}`, 1 + Math.floor(i / 97), (i % 3) / 2, i % 5 === 0 ? 64 : null));
      if (i % 4 === 0) u.release(`t${(i * 7) % 97}`, 10);
    }
    const fresh = new UsageView(1000);
    fresh.replace([...(u as unknown as { runs: Map<string, ReturnType<typeof run>> }).runs.values()], 0);
    const norm = (m: ReadonlyMap<string, { used: number; cpu: number; memory: number }>) =>
      [...m.entries()].map(([h, t]) => [h, t.used, Number(t.cpu.toFixed(6)), t.memory]).sort();
    assert.deepEqual(norm(u.loads()), norm(fresh.loads()));
  });
});
