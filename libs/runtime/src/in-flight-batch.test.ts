import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightBatch } from './in-flight-batch.js';

/** A run that waits until released, recording the batches it was given. */
function gated() {
  const runs: number[][] = [];
  const gates: (() => void)[] = [];
  const run = (items: number[]): Promise<number> => {
    runs.push(items);
    return new Promise((resolve) => gates.push(() => resolve(items.reduce((a, b) => a + b, 0))));
  };
  const release = async (): Promise<void> => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { runs, run, release };
}

describe('InFlightBatch', () => {
  it('runs one turn of arrivals as one batch, and what arrives meanwhile as the next', async () => {
    const g = gated();
    const b = new InFlightBatch(g.run, { maxItems: 100 });
    const first = [b.add(1), b.add(2)];
    await new Promise((r) => setImmediate(r));
    const second = [b.add(3), b.add(4), b.add(5)];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(g.runs, [[1, 2]], 'one run in flight at a time');
    assert.equal(b.waiting, 3);
    await g.release();
    await g.release();
    assert.deepEqual(g.runs, [[1, 2], [3, 4, 5]]);
    assert.deepEqual(await Promise.all(first), [3, 3], 'each item gets its run\'s result');
    assert.deepEqual(await Promise.all(second), [12, 12, 12]);
  });

  it('cuts batches at maxItems and at maxWeight, and always takes an item heavier than the limit alone', async () => {
    const cases: { items: number[]; maxItems: number; maxWeight?: number; want: number[][] }[] = [
      { items: [1, 2, 3, 4, 5], maxItems: 2, want: [[1, 2], [3, 4], [5]] },
      { items: [5, 5, 5], maxItems: 10, maxWeight: 10, want: [[5, 5], [5]] },
      { items: [50, 1, 1], maxItems: 10, maxWeight: 10, want: [[50], [1, 1]] },
    ];
    for (const c of cases) {
      const runs: number[][] = [];
      const b = new InFlightBatch(async (items: number[]) => { runs.push(items); return 0; }, {
        maxItems: c.maxItems, ...(c.maxWeight ? { maxWeight: c.maxWeight, weight: (n: number) => n } : {}),
      });
      await Promise.all(c.items.map((i) => b.add(i)));
      assert.deepEqual(runs, c.want, JSON.stringify(c));
    }
  });

  it('keeps `concurrency` runs in flight, and a failed run rejects its items only', async () => {
    let inFlight = 0;
    let most = 0;
    const b = new InFlightBatch(async (items: number[]) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      if (items.includes(13)) throw new Error('unlucky');
      return items.length;
    }, { maxItems: 1, concurrency: 3 });
    const results = await Promise.allSettled([1, 2, 13, 4, 5, 6].map((i) => b.add(i)));
    assert.equal(most, 3);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  });
});
