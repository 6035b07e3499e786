// The autoscaler with its local provider and real agents (issue 15): the fleet rises with the queue up to its limit,
// every task runs once and succeeds, the fleet falls back to its minimum, and no agent is stopped while it holds a
// task; a queue that comes and goes does not make it flip-flop; an autoscaler killed during a drain finishes it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Subscription } from '@nats-io/transport-node';
import { Subjects, type Overview, type ScalingEvent } from '@tangerine/contracts';
import pg from 'pg';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { HttpApi } from '../helpers/http.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const LIMIT = 5;
const SLOTS = 2;
/** Short clocks, so a test sees in seconds what takes minutes by default. */
const CLOCKS = {
  EVALUATION_INTERVAL: '0.5', SCALE_UP_COOLDOWN: '1', SCALE_DOWN_IDLE: '3', SCALE_DOWN_COOLDOWN: '4', SCALE_DRAIN_SETTLE: '1',
  LOCAL_AGENT_SLOTS: String(SLOTS), HEARTBEAT_INTERVAL: '0.5',
};

describe('autoscaling with the local provider', () => {
  const cluster = new Cluster('autoscaler', { ...CLOCKS });
  const events: ScalingEvent[] = [];
  let sub: Subscription | null = null;
  let db: pg.Client;

  before(async () => {
    await cluster.start({ services: ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'relay', 'api', 'autoscaler'], localPool: { size: LIMIT } });
    sub = cluster.client.nc.subscribe(Subjects.scalingEvents.wildcard);
    void (async () => {
      for await (const m of sub!) events.push(Subjects.scalingEvents.parse(JSON.parse(new TextDecoder().decode(m.data))));
    })();
    db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
  });
  after(async () => {
    sub?.unsubscribe();
    await db?.end();
    await cluster.stop();
  });

  const alive = (): number => cluster.localAgents().filter((r) => r.terminatedAt === undefined).length;
  const upHosts = async (): Promise<number> => {
    const { hosts } = await cluster.client.request<{ hosts: { host: string; state: string }[] }>(Subjects.hostsList.subject, {});
    return hosts.filter((h) => h.state !== 'down' && cluster.poolHosts().includes(h.host)).length;
  };

  it(`40 tasks of sleep 5 on ${SLOTS}-slot hosts: up to ${LIMIT} hosts, every task once, then back to none`, async () => {
    const c = cluster.client;
    const names = Array.from({ length: 40 }, (_, i) => `as-${i}`);
    for (const name of names) c.submit({ name, image: TEST_IMAGE, command: ['sleep', '5'] });
    let most = 0;
    const watching = setInterval(() => { most = Math.max(most, alive()); }, 100);
    try {
      await waitFor(`${LIMIT} hosts up`, async () => ((await upHosts()) === LIMIT ? true : undefined), 120_000);
      // The status page's overview shows what the evaluation saw: the desired and actual counts of the pool.
      const api = new HttpApi(await cluster.httpUrl(), cluster.apiTokens.read);
      await waitFor('the overview shows the pool at its limit', async () => {
        const o = (await api.get('/v1/overview')).json as Overview;
        const local = o.scaling.find((p) => p.provider === 'local');
        return local && local.desired === LIMIT && local.actual === LIMIT ? local : undefined;
      }, 60_000);
      for (const name of names) {
        const t = await c.waitForState(name, 'success', 240_000);
        assert.equal(t.attempt, 1, `${name} ran once`);
      }
      await waitUntil('every local agent stopped', () => cluster.localAgents().length > 0 && alive() === 0, 120_000);
    } finally {
      clearInterval(watching);
    }
    assert.equal(most, LIMIT, `the fleet rose to its limit and never above (${most})`);
    const targets = events.filter((e) => e.kind === 'target');
    assert.ok(targets.every((e) => (e.to ?? 0) <= LIMIT), JSON.stringify(targets));
    // An agent's record says terminated before the service tells it: the event may come a moment after.
    await waitFor('drains and terminations told', () => (events.some((e) => e.kind === 'drain') && events.some((e) => e.kind === 'terminate') ? true : undefined), 30_000);

    // The agents' own lines: each task started once in all, and every process had ended each of its runs before it stopped.
    const started = new Map<string, number>();
    for (const host of cluster.poolHosts()) {
      const byPid = new Map<number, Record<string, unknown>[]>();
      for (const l of cluster.localAgentLines(host)) {
        const pid = Number(l['pid']);
        byPid.set(pid, [...(byPid.get(pid) ?? []), l]);
      }
      for (const [pid, lines] of byPid) {
        const stop = lines.findIndex((l) => l['msg'] === 'stopping');
        assert.ok(stop >= 0, `agent ${host} (pid ${pid}) was stopped gracefully`);
        const before = lines.slice(0, stop);
        const runs = before.filter((l) => l['msg'] === 'run started').map((l) => `${String(l['task'])}:${String(l['attempt'])}`);
        const ended = new Set(before.filter((l) => l['msg'] === 'run exited' && l['exit_code'] === 0).map((l) => `${String(l['task'])}:${String(l['attempt'])}`));
        for (const r of runs) {
          assert.ok(ended.has(r), `agent ${host} (pid ${pid}) was stopped while it held ${r}`);
          started.set(r, (started.get(r) ?? 0) + 1);
        }
        // A stop of a run already ended and reported (fencing: `stale`) is no loss; any other stop or loss is.
        const stops = lines.filter((l) => l['msg'] === 'run lost' || (l['msg'] === 'stopping run' && !/is success with attempt 1/.test(String(l['reason']))));
        assert.deepEqual(stops, [], `agent ${host} (pid ${pid}) lost or stopped a run`);
      }
    }
    assert.equal(started.size, 40, 'every task started on an autoscaled agent');
    assert.ok([...started.values()].every((n) => n === 1), 'no task ran twice');
    const failed = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM runs WHERE exit_code IS DISTINCT FROM 0");
    assert.equal(failed.rows[0]!.n, 0, 'no run failed');
  });

  it('a queue that comes and goes every few seconds does not make the fleet flip-flop', async () => {
    // The idle time and the down cooldown longer than the queue's gaps: the hosts stay while work keeps coming back.
    await restartAutoscaler(cluster, { SCALE_DOWN_IDLE: '6', SCALE_DOWN_COOLDOWN: '10' });
    const from = events.length;
    const c = cluster.client;
    for (let round = 0; round < 5; round++) {
      const names = Array.from({ length: 4 }, (_, i) => `thrash-${round}-${i}`);
      for (const name of names) c.submit({ name, image: TEST_IMAGE, command: ['sleep', '1'] });
      for (const name of names) await c.waitForState(name, 'success', 120_000);
      // Empty for about 3 s: less than the idle time, so no host is taken for idle.
      await waitUntil('the queue empty a while', waitingSince(3000), 10_000);
    }
    const during = events.slice(from);
    assert.deepEqual(during.filter((e) => e.kind === 'drain' || e.kind === 'terminate'), [], 'no host drained or terminated while work kept coming');
    const targets = during.filter((e) => e.kind === 'target');
    assert.ok(targets.every((e) => (e.to ?? 0) >= (e.from ?? 0)), `the target only rose: ${JSON.stringify(targets.map((e) => [e.from, e.to]))}`);
    assert.ok(targets.length <= 2, `a few raises, not one per round: ${targets.length}`);
    // Then quiet: the hosts go.
    await waitUntil('every local agent stopped', () => alive() === 0, 120_000);
  });

  it('an autoscaler killed during a drain finishes it when started again', async () => {
    // A long settle: the drain stays open long enough to kill the autoscaler in the middle of it.
    await restartAutoscaler(cluster, { SCALE_DRAIN_SETTLE: '30', SCALE_DOWN_IDLE: '2', SCALE_DOWN_COOLDOWN: '2' });
    const c = cluster.client;
    const from = events.length;
    c.submit({ name: 'kill-during-drain', image: TEST_IMAGE, command: ['sleep', '1'] });
    await c.waitForState('kill-during-drain', 'success', 120_000);
    const drain = await waitFor('a drain', () => events.slice(from).find((e) => e.kind === 'drain'), 60_000);
    await cluster.services.get('autoscaler')!.kill();
    const open = await db.query<{ state: string }>('SELECT state FROM scaling_drains WHERE host = $1 AND instance_id = $2', [drain.host, drain.instance]);
    assert.deepEqual(open.rows.map((r) => r.state), ['open'], 'the drain is recorded, not finished');
    assert.ok(cluster.localAgents().some((r) => r.instanceId === drain.instance && r.terminatedAt === undefined), 'its agent outlived the autoscaler');

    await restartAutoscaler(cluster, { SCALE_DRAIN_SETTLE: '1' }, false);
    await waitFor('the drained host terminated', () => events.find((e) => e.kind === 'terminate' && e.instance === drain.instance), 60_000);
    const closed = await db.query<{ state: string }>('SELECT state FROM scaling_drains WHERE host = $1 AND instance_id = $2', [drain.host, drain.instance]);
    assert.deepEqual(closed.rows.map((r) => r.state), ['terminated']);
    await waitUntil('its agent gone', () => cluster.localAgents().some((r) => r.instanceId === drain.instance && r.terminatedAt !== undefined), 30_000);
  });

  /** A condition that holds once it has held for `ms` in a row: the ready queue and the hosts' runs both empty. */
  function waitingSince(ms: number): () => Promise<boolean> {
    let since: number | null = null;
    return async () => {
      const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM tasks WHERE state IN ('ready', 'placed', 'running')");
      if (r.rows[0]!.n > 0) since = null;
      else since ??= Date.now();
      return since !== null && Date.now() - since >= ms;
    };
  }
});

/** The autoscaler started again with more settings (after a graceful stop, unless it is already gone). */
async function restartAutoscaler(cluster: Cluster, env: Record<string, string>, stop = true): Promise<void> {
  const old = cluster.services.get('autoscaler')!;
  // A graceful stop stops its agents: kill it instead, so the fleet carries over as after a crash.
  if (stop) await old.kill();
  Object.assign(cluster.extraEnv, env);
  const p = cluster.startService('autoscaler');
  await cluster.waitForStarted('autoscaler', p);
}
