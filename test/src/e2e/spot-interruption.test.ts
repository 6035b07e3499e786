import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subjects, type HostView, type RunExited } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { ImdsServer } from '../helpers/imds-server.js';
import { waitFor } from '../helpers/wait.js';

const A = 'spot-a';
const B = 'spot-b';
const CONTAINER = 'spot-container';
const PROCESS = 'spot-process';
// The first attempt runs until it is stopped; any later one ends at once.
const UNTIL_STOPPED = ['sh', '-c', 'if [ "$TANGERINE_ATTEMPT" = 1 ]; then sleep 120; fi; echo done'];

/**
 * An agent on a spot instance (EC2_METADATA_URL set) announces its instance id as the label `instanceId`, and on an
 * interruption notice drains itself at once: it offers no slot, and every run it holds, container or process, is
 * stopped and reported lost, so each task runs again on another host long before host health would miss the host.
 */
describe('spot interruption: the agent drains its host and its tasks run elsewhere', () => {
  // Host health would take the host for lost only after 60 s: what happens before is the agent's own doing.
  const cluster = new Cluster('spot-interruption', { HOST_TIMEOUT: '60' });
  const imds = new ImdsServer();
  const exited: RunExited[] = [];
  const hosts = async (): Promise<HostView[]> => (await cluster.client.request<{ hosts: HostView[] }>(Subjects.hostsList.subject, {})).hosts;

  before(async () => {
    await imds.start();
    await cluster.start({
      agents: [{ host: A, executors: 'docker,process', slots: 4, labels: 'zone=a', env: { EC2_METADATA_URL: imds.url, SPOT_INTERRUPTION_POLL: '0.5' } }],
    });
    cluster.client.nc.subscribe(Subjects.runExited.wildcard, {
      callback: (_e, m) => { exited.push(JSON.parse(new TextDecoder().decode(m.data)) as RunExited); },
    });
    await cluster.client.nc.flush();
  });
  after(async () => {
    try {
      await cluster.stop();
    } finally {
      await imds.stop();
    }
  });

  it('announces the instance id as the host label instanceId', async () => {
    const a = await waitFor('host A listed', async () => (await hosts()).find((h) => h.host === A));
    assert.deepEqual(a.labels, { zone: 'a', instanceId: imds.instanceId });
    assert.ok(imds.requests.some((r) => r.method === 'PUT' && r.path === '/latest/api/token'));
    await waitFor('a poll of the notice', () => imds.requests.find((r) => r.path === '/latest/meta-data/spot/instance-action' && r.status === 404));
  });

  it('on a notice, stops every run of the host, reports them lost, and they succeed on another host', async () => {
    const c = cluster.client;
    c.submit({ name: CONTAINER, image: TEST_IMAGE, command: UNTIL_STOPPED });
    c.submit({ name: PROCESS, executor: 'process', command: UNTIL_STOPPED });
    for (const task of [CONTAINER, PROCESS]) await c.waitForState(task, 'running', 30_000);
    await cluster.addAgent({ host: B, executors: 'docker,process', slots: 4 });
    await cluster.waitForAgent(B);

    const noticedAt = Date.now();
    imds.notice = { action: 'terminate', time: new Date(Date.now() + 120_000).toISOString().replace(/\.\d+Z$/, 'Z') };
    for (const task of [CONTAINER, PROCESS]) {
      const t = await c.waitForState(task, 'success', 45_000);
      assert.deepEqual(t.runs?.map((r) => [r.attempt, r.host]), [[1, A], [2, B]], task);
      assert.equal(t.failures, 0, `${task}: no failure counted`);
      assert.equal(t.runs?.[0]?.reason, 'run_lost');
      assert.match(t.runs?.[1]?.output ?? '', /done/);
      const reports = exited.filter((e) => e.name === task && e.attempt === 1);
      assert.equal(reports.length, 1, `${task}: one report`);
      assert.equal(reports[0]!.lost, true);
      assert.equal(reports[0]!.host, A);
      assert.match(reports[0]!.reason ?? '', new RegExp(`^run_lost: spot interruption of ${A} \\(instance ${imds.instanceId}, terminate at `));
    }
    // Well within the 2 minutes of the notice, and before host health would have missed A (60 s).
    assert.ok(Date.now() - noticedAt < 45_000);
    const agentA = cluster.agents.get(A)!;
    assert.ok(agentA.lines.some((l) => l['msg'] === 'spot interruption notice: draining this host' && l['action'] === 'terminate'));
    assert.equal(agentA.child!.exitCode, null, 'the agent goes on (it still heartbeats) until the instance goes');
    assert.deepEqual(await cluster.containersLeft(CONTAINER), [], 'the container was stopped and removed');
  });

  it('offers no slot afterwards: new work goes to the other host', async () => {
    const a = await waitFor('A announcing no slot', async () => (await hosts()).find((h) => h.host === A && h.slots === 0));
    assert.equal(a.state, 'up');
    cluster.client.submit({ name: 'spot-after', executor: 'process', command: ['true'] });
    const t = await cluster.client.waitForState('spot-after', 'success', 30_000);
    assert.deepEqual(t.runs?.map((r) => r.host), [B]);
  });
});
