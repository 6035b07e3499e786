import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subjects } from '@tangerine/contracts';
import { createLogger } from '@tangerine/runtime';
import { openLedger, placeTasks } from '@tangerine/ledger';
import { Cluster } from '../helpers/cluster.js';

const quick = (name: string, extra: Record<string, unknown> = {}) => ({ name, executor: 'process', command: ['sh', '-c', 'sleep 0.05'], ...extra });

describe('services that stop, crash and run twice', () => {
  const cluster = new Cluster('recovery');

  before(async () => {
    await cluster.start({ agents: [{ host: 'rec-a', slots: 4, executors: 'process' }, { host: 'rec-b', slots: 4, executors: 'process' }] });
  });
  after(async () => {
    await cluster.stop();
  });

  it('keeps a task published while intake is stopped, and runs it once intake starts', async () => {
    const c = cluster.client;
    await cluster.services.get('intake')!.stop();
    // The stream's ack says the submission is stored, and intake is down: nothing may write it to the ledger yet.
    await c.submitStored(quick('while-intake-down'));
    const before = await c.get('while-intake-down');
    assert.ok('error' in before && before.error.code === 'not_found', 'nothing is written while intake is down');
    cluster.startService('intake');
    const t = await c.waitForState('while-intake-down', 'success');
    assert.equal(t.runs?.length, 1);
  });

  it('never puts one task on two hosts with two placers running, even when one dies', async () => {
    const c = cluster.client;
    await cluster.startService('placer', 'placer-2').waitForLine((l) => l['part'] === 'placer' && l['msg'] === 'started');
    const names = Array.from({ length: 60 }, (_, i) => `two-placers-${i}`);
    for (const name of names.slice(0, 30)) c.submit(quick(name));
    await c.waitForState(names[0]!, 'success');
    await cluster.services.get('placer')!.kill();
    for (const name of names.slice(30)) c.submit(quick(name));
    for (const name of names) {
      const t = await c.waitForState(name, 'success');
      assert.equal(t.runs?.length, 1, `${name} ran once`);
    }
    const placed = c.events.filter((e) => e.state === 'placed' && e.name.startsWith('two-placers-'));
    const hostsByRun = new Map<string, Set<string>>();
    for (const e of placed) {
      const key = `${e.name}:${e.attempt}`;
      hostsByRun.set(key, (hostsByRun.get(key) ?? new Set()).add(e.host ?? ''));
    }
    assert.equal(hostsByRun.size, 60);
    for (const [key, hosts] of hostsByRun) assert.equal(hosts.size, 1, `${key} went to ${[...hosts].join(', ')}`);
  });

  it('sends again a run that a placer committed but died before sending', async () => {
    const c = cluster.client;
    // No host has zone=nowhere: the task stays ready, and we place it by hand, as a placer that died after its
    // commit and before its dispatch would have left it.
    c.submit(quick('orphaned-placement', { constraints: { zone: 'nowhere' } }));
    await c.waitForState('orphaned-placement', 'ready');
    const ledger = openLedger({ databaseUrl: cluster.databaseUrl, log: createLogger('test', { level: 'silent', pretty: false }) });
    try {
      const placed = await placeTasks(ledger, [{ name: 'orphaned-placement', attempt: 0, host: 'rec-a' }]);
      assert.equal(placed.length, 1);
    } finally {
      await ledger.close();
    }
    const t = await c.waitForState('orphaned-placement', 'success', 30000);
    assert.equal(t.runs?.length, 1);
    assert.equal(t.runs?.[0]?.host, 'rec-a');
  });

  it('ignores a duplicate run report: the task keeps the verdict of the first', async () => {
    const c = cluster.client;
    c.submit(quick('reported-twice'));
    const t = await c.waitForState('reported-twice', 'success');
    const run = t.runs![0]!;
    // Same report under a new dedupe id, so JetStream delivers it again, as after an agent's retry.
    await cluster.client.nc.request(Subjects.runExited.make(run.host!), new TextEncoder().encode(JSON.stringify({
      name: 'reported-twice', attempt: run.attempt, host: run.host, exit_code: 9, reason: null, output: 'late',
      started_at: run.started_at, finished_at: new Date().toISOString(),
    })));
    c.submit(quick('after-duplicate-report'));
    await c.waitForState('after-duplicate-report', 'success');
    const again = await c.waitForState('reported-twice', 'success');
    assert.equal(again.failures, 0);
    assert.equal(again.runs?.[0]?.exit_code, 0);
    await c.waitForEvent((e) => e.name === 'after-duplicate-report' && e.state === 'success');
    await c.waitForEvent((e) => e.name === 'reported-twice' && e.state === 'success');
    assert.equal(c.events.filter((e) => e.name === 'reported-twice' && e.state === 'success').length, 1);
  });

  it('lets a monitor killed mid-stream lose nothing: every report is applied once after it restarts', async () => {
    const c = cluster.client;
    const names = Array.from({ length: 30 }, (_, i) => `monitor-crash-${i}`);
    for (const name of names) c.submit(quick(name, { command: ['sh', '-c', 'sleep 0.3'] }));
    // Kill it while runs are in flight: some reports it took and did not ack, some not yet delivered.
    const deadline = Date.now() + 10000;
    while (!c.events.some((e) => e.state === 'running' && e.name.startsWith('monitor-crash-')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await cluster.services.get('monitor')!.kill();
    const doneBeforeKill = c.events.filter((e) => e.state === 'success' && e.name.startsWith('monitor-crash-')).length;
    assert.ok(doneBeforeKill < names.length, 'the monitor was killed with work left');
    // Down for half a second, so that reports pile up in the stream meanwhile: the fault's shape, nothing awaited.
    await new Promise((r) => setTimeout(r, 500));
    cluster.startService('monitor');
    for (const name of names) {
      const t = await c.waitForState(name, 'success');
      assert.equal(t.runs?.length, 1);
      assert.equal(t.failures, 0);
    }
  });
});
