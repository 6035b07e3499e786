import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planChaosTasks, predict, type ChaosKind } from './plan.js';

describe('the chaos plan', () => {
  for (const n of [150, 500]) {
    it(`plans ${n} tasks of every kind, with unique names and dependencies that exist`, () => {
      const tasks = planChaosTasks(n, { dir: '/tmp/x', image: 'img' });
      assert.equal(tasks.length, n);
      const names = new Set(tasks.map((t) => t.spec.name));
      assert.equal(names.size, n);
      for (const t of tasks) for (const d of (t.spec['dependencies'] as string[] | undefined) ?? []) assert.ok(names.has(d), d);
      const kinds = new Set(tasks.map((t) => t.kind));
      for (const k of ['plain', 'long', 'chain', 'fan-in', 'flaky', 'doomed', 'broken', 'orphan', 'fragile', 'container'] as ChaosKind[]) {
        assert.ok(kinds.has(k), k);
      }
    });
  }

  const cases: [ChaosKind, boolean, string[]][] = [
    ['plain', false, ['success']], ['plain', true, ['success']], ['flaky', true, ['success']],
    ['doomed', false, ['failed']], ['broken', false, ['failed']], ['orphan', false, ['blocked']],
    ['fragile', false, ['success']], ['fragile', true, ['failed']],
  ];
  for (const [kind, lost, expected] of cases) {
    it(`predicts ${kind}${lost ? ' after a lost run' : ''}: ${expected.join(' or ')}`, () =>
      assert.deepEqual(predict({ kind, spec: { name: 'x' } }, lost), expected));
  }
});
