import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseTaskSpec } from '@tangerine/contracts';
import {
  closeDrain, migrate, openDrain, openLedger, readBusyHosts, readOpenDrains, readReadyGroups, readScalingClocks, readScalingHosts,
  readTerminatedDrains, readScalingSummary, recordScaling, recordScalingSeen, submitTasks, type Ledger,
} from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { createDatabase } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });

/** The autoscaler's ledger statements (libs/ledger scaling.ts, 014_scaling) on a real PostgreSQL. */
describe('the autoscaler\'s ledger record', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  const at = new Date('2026-12-02T03:00:00Z');

  before(async () => {
    db = await createDatabase('scaling-ledger');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
    await ledger.query(
      `INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen, state)
       VALUES ('s1', '{"instanceId":"i-1"}', 2, '{process}', 1, 1024, now(), 'up'),
              ('s2', '{"instanceId":"i-2"}', 2, '{process}', 1, 1024, now(), 'draining'),
              ('s3', '{}', 4, '{process}', 1, 1024, now(), 'down')`,
    );
  });
  after(async () => {
    await ledger.close();
    await db.drop();
  });

  it('reads hosts not down with the tasks each holds, and ready tasks by label set', async () => {
    const spec = (name: string, constraints: Record<string, string> = {}) => parseTaskSpec({ name, executor: 'process', command: ['true'], constraints });
    await submitTasks(ledger, [
      { seq: 1, spec: spec('sc-a') }, { seq: 2, spec: spec('sc-b') }, { seq: 3, spec: spec('sc-c', { zone: 'a' }) }, { seq: 4, spec: spec('sc-d') },
    ], at);
    await ledger.query("UPDATE tasks SET state = 'placed', host = 's1', attempt = 1 WHERE name = 'sc-d'");
    const hosts = await readScalingHosts(ledger);
    assert.deepEqual(hosts.map((h) => [h.id, h.state, h.used, h.labels['instanceId'] ?? null]), [['s1', 'up', 1, 'i-1'], ['s2', 'draining', 0, 'i-2']]);
    assert.deepEqual(await readReadyGroups(ledger, 10), [{ constraints: {}, count: 2 }, { constraints: { zone: 'a' }, count: 1 }]);
    assert.deepEqual(await readReadyGroups(ledger, 1), [{ constraints: {}, count: 2 }], 'bounded by the limit');
    assert.deepEqual([...await readBusyHosts(ledger, ['s1', 's2'])], ['s1']);
  });

  it('keeps one open drain per host: a second open is refused, a close happens once', async () => {
    assert.equal(await openDrain(ledger, { provider: 'local', host: 's2', instanceId: 'i-2', at }), true);
    assert.equal(await openDrain(ledger, { provider: 'local', host: 's2', instanceId: 'i-2', at }), false, 'a second replica or a redone step');
    assert.deepEqual((await readOpenDrains(ledger, 'local')).map((d) => [d.host, d.instance_id]), [['s2', 'i-2']]);
    assert.deepEqual(await readOpenDrains(ledger, 'spot-fleet'), [], 'per provider');
    assert.equal(await closeDrain(ledger, { host: 's2', instanceId: 'i-2', state: 'terminated', reason: 'drained and empty', at }), true);
    assert.equal(await closeDrain(ledger, { host: 's2', instanceId: 'i-2', state: 'undone', reason: 'late', at }), false);
    assert.deepEqual(await readOpenDrains(ledger, 'local'), []);
    assert.deepEqual([...await readTerminatedDrains(ledger, ['s2', 's1'])], [['s2', 'i-2']]);
    // The host id used again for a new instance: a new drain may open.
    assert.equal(await openDrain(ledger, { provider: 'local', host: 's2', instanceId: 'i-9', at }), true);
  });

  it('keeps each direction\'s clock: a later change without it leaves it as it was', async () => {
    assert.equal(await readScalingClocks(ledger, 'local'), null);
    await recordScaling(ledger, 'local', { target: 3, at, up: true, asked: true });
    const later = new Date(at.getTime() + 60_000);
    await recordScaling(ledger, 'local', { target: 2, at: later, down: true });
    assert.deepEqual(await readScalingClocks(ledger, 'local'), { target: 2, asked_at: at, last_up: at, last_down: later });
  });

  it('gives the status page each provider\'s desired and last seen counts, leaving the clocks alone', async () => {
    const seen = new Date(at.getTime() + 120_000);
    await recordScalingSeen(ledger, 'local', { target: 2, actual: 3, starting: 1, draining: 1, at: seen });
    await recordScalingSeen(ledger, 'spot-fleet', { target: 4, actual: 2, starting: 2, draining: 0, at: seen });
    assert.deepEqual(await readScalingSummary(ledger), [
      { provider: 'local', desired: 2, actual: 3, starting: 1, draining: 1, seen_at: seen.toISOString() },
      { provider: 'spot-fleet', desired: 4, actual: 2, starting: 2, draining: 0, seen_at: seen.toISOString() },
    ]);
    const later = new Date(at.getTime() + 60_000);
    assert.deepEqual(await readScalingClocks(ledger, 'local'), { target: 2, asked_at: at, last_up: at, last_down: later }, 'the cooldowns\' clocks as they were');
  });
});
