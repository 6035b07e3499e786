import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPipelineBench } from '../bench/pipeline-bench.js';
import { runReport, toMarkdown } from '../bench/report.js';

/** Keeps `npm run bench` working: small runs whose figures are printed, not judged. */
describe('benchmarks, quick', () => {
  it('the pipeline bench moves every task to success and measures it', async () => {
    const r = await runPipelineBench({ independent: 200, chains: 2, chainLength: 25, agents: 1, slots: 16, timeoutMs: 120000 });
    assert.equal(r.succeeded, 250);
    assert.ok(r.tasksPerSecond > 0 && Number.isFinite(r.p50RunningMs));
    assert.ok(r.statements > 0, 'the services report their ledger statements');
    console.log(`quick bench: ${r.tasksPerSecond.toFixed(0)} tasks/s, ${r.statementsPerTask.toFixed(2)} statements per task`);
  });

  it('the report runs every part: Tangerine, pg-boss, graphile-worker, the Docker loop, the fleet, the HTTP API', { timeout: 600_000 }, async () => {
    const r = await runReport({ quick: true, log: () => undefined });
    assert.ok(r.throughput && r.containers && r.fleet && r.dependencies && r.growth);
    assert.equal(r.throughput.peers.length, 4);
    for (const p of r.throughput.peers) assert.ok(p.jobsPerSecond > 0, p.peer);
    assert.ok(r.throughput.tangerine.single.tasksPerSecond > 0 && r.throughput.tangerine.batch.tasksPerSecond > 0);
    assert.ok(r.containers.tangerine.containersPerSecond > 0 && r.containers.dockerLoop.containersPerSecond > 0);
    assert.equal(r.fleet.placed, r.fleet.tasks);
    assert.equal(r.dependencies.sinkUpdates, 1, 'the fan-in is released in one step');
    const markdown = toMarkdown(r);
    assert.ok(r.http && r.http.httpPerSecond > 0 && r.http.natsPerSecond > 0 && Number.isFinite(r.http.listP99Ms));
    assert.equal(r.http.eventsDelivered, r.http.eventsExpected, 'every event reaches every subscriber');
    for (const part of ['(1)', '(2)', '(3)', '(4)', '(5)', '(6)', '(7)']) assert.ok(markdown.includes(`## ${part}`), part);
    console.log(markdown);
  });
});
