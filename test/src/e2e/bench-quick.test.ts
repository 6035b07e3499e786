import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPipelineBench } from '../bench/pipeline-bench.js';

/** Keeps `npm run bench` working: a small run whose figures are printed, not judged. */
describe('pipeline benchmark, quick', () => {
  it('moves every task to success and measures it', async () => {
    const r = await runPipelineBench({ independent: 200, chains: 2, chainLength: 25, agents: 1, slots: 16, timeoutMs: 120000 });
    assert.equal(r.succeeded, 250);
    assert.ok(r.tasksPerSecond > 0 && Number.isFinite(r.p50RunningMs));
    assert.ok(r.statements > 0, 'the services report their ledger statements');
    console.log(`quick bench: ${r.tasksPerSecond.toFixed(0)} tasks/s, ${r.statementsPerTask.toFixed(2)} statements per task`);
  });
});
