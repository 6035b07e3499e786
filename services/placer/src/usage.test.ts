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
