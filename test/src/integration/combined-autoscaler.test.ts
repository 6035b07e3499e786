import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Subscription } from '@nats-io/transport-node';
import { Subjects, type ScalingEvent } from '@tangerine/contracts';
import { TestClient } from '../helpers/client.js';
import { TestIdentities } from '../helpers/identities.js';
import { trackHosts } from '../helpers/leak-check.js';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { createDatabase } from '../helpers/postgres.js';
import { ServiceProcess } from '../helpers/processes.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const POOL = ['cas-1', 'cas-2'];

/**
 * `AUTOSCALER_PROVIDER=local npm start`: the one process (as the `tangerine` identity) runs the autoscaler beside
 * host-health, so its hosts.drain is answered by the same process; the pool's agents connect as their own identities.
 */
describe('npm start with local autoscaling', () => {
  const identities = TestIdentities.create(POOL);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-combined-pool-'));
  const events: ScalingEvent[] = [];
  let nats: NatsServer;
  let db: { url: string; drop: () => Promise<void> };
  let proc: ServiceProcess;
  let client: TestClient;
  let sub: Subscription;

  before(async () => {
    trackHosts(...POOL);
    nats = await startNats({ config: identities.serverConfig });
    db = await createDatabase('combined_autoscaler');
    proc = new ServiceProcess('combined', {
      NATS_URL: nats.url, DATABASE_URL: db.url, HOST_ID: 'local', AGENT_EXECUTORS: 'process', HEARTBEAT_INTERVAL: '0.5',
      ...identities.env({ kind: 'tangerine', host: 'local' }),
      AUTOSCALER_PROVIDER: 'local', LOCAL_SCALE_LIMIT: String(POOL.length), LOCAL_HOST_PREFIX: 'cas', LOCAL_STATE_DIR: stateDir,
      LOCAL_AGENT_IDENTITIES: identities.dir, EVALUATION_INTERVAL: '0.5', SCALE_UP_COOLDOWN: '1', SCALE_DOWN_IDLE: '2',
      SCALE_DOWN_COOLDOWN: '2', SCALE_DRAIN_SETTLE: '1',
    }).start();
    await proc.waitForLine((l) => l['msg'] === 'autoscaling', 60_000);
    client = await TestClient.connect(nats.url, identities.options({ kind: 'admin' }));
    sub = client.nc.subscribe(Subjects.scalingEvents.wildcard);
    void (async () => {
      for await (const m of sub) events.push(Subjects.scalingEvents.parse(JSON.parse(new TextDecoder().decode(m.data))));
    })();
  });
  after(async () => {
    sub?.unsubscribe();
    await client?.close();
    await proc?.stop();
    for (const r of records()) {
      try {
        if (readFileSync(`/proc/${r.pid}/environ`, 'utf8').split('\0').includes(`HOST_ID=${r.host}`)) process.kill(r.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await nats?.stop();
    await db?.drop();
    identities.remove();
    rmSync(stateDir, { recursive: true, force: true });
  });

  function records(): Array<{ host: string; pid: number; terminatedAt?: string }> {
    return readdirSync(stateDir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(path.join(stateDir, f), 'utf8')) as { host: string; pid: number; terminatedAt?: string });
  }

  it('tasks for the autoscaled label start agents, run there, and the agents go once idle', async () => {
    // Constrained to the pool's label: the process's own agent (`local`, no labels) cannot take them.
    const names = ['cas-a', 'cas-b', 'cas-c'];
    for (const name of names) client.submit({ name, executor: 'process', command: ['sleep', '1'], constraints: { autoscaled: 'local' } });
    for (const name of names) {
      const t = await client.waitForState(name, 'success', 120_000);
      assert.ok(POOL.includes(t.host ?? ''), `${name} ran on ${t.host}`);
    }
    await waitFor('a drain answered by the same process', () => events.find((e) => e.kind === 'drain'), 60_000);
    await waitUntil('every pool agent stopped', () => records().length > 0 && records().every((r) => r.terminatedAt !== undefined), 60_000);
    // The local provider marks an agent terminated in its record before the service tells the termination.
    await waitFor('the termination told', () => events.find((e) => e.kind === 'terminate'), 30_000);
    assert.ok(events.filter((e) => e.kind === 'target').every((e) => (e.to ?? 0) <= POOL.length));
    assert.ok(!proc.lines.some((l) => String(l['msg']).startsWith('evaluation failed') || String(l['msg']).includes('the provider failed')), 'no evaluation failed');
  });
});
