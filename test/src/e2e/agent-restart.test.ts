import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subjects, type HostAnnounce } from '@tangerine/contracts';
import { waitFor, waitUntil } from '../helpers/wait.js';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';

const HOST = 'restart-a';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run timeouts, and an agent killed while its containers run: the agent started again with the same host id adopts
 * them, reports the ones that ended while it was away, and keeps their timeouts.
 */
describe('agent timeouts and restart', () => {
  // A host is taken for dead only after 30 s here, so nothing but the agent's own adoption acts while it is away.
  const cluster = new Cluster('agent-restart', { HOST_TIMEOUT: '30' });
  const announcements: HostAnnounce[] = [];

  before(async () => {
    await cluster.start({ agents: [{ host: HOST, executors: 'docker', slots: 4 }] });
    cluster.client.nc.subscribe(Subjects.hostAnnounce.wildcard, {
      callback: (_e, m) => { announcements.push(JSON.parse(new TextDecoder().decode(m.data)) as HostAnnounce); },
    });
  });
  after(async () => {
    await cluster.stop();
  });

  const agent = () => cluster.agents.get(HOST)!;
  const containersOf = async (task: string) => (await cluster.containers()).filter((c) => c.Labels['tangerine.task'] === task);

  /**
   * Kills the agent (SIGKILL, as a crash), stays down `ms`, and starts a new one with the same host id. The time down
   * is the scenario (say, past a run's deadline), not a wait for something: it is a time on purpose.
   */
  async function crashAgentFor(ms: number): Promise<{ readyAt: number }> {
    await agent().kill();
    await sleep(ms);
    cluster.startAgent({ host: HOST, executors: 'docker', slots: 4 });
    await cluster.waitForAgent(HOST);
    return { readyAt: Date.now() };
  }

  it('kills a run at its timeout and reports exit code 124, not retried by default', async () => {
    const c = cluster.client;
    const t0 = Date.now();
    c.submit({ name: 'timeout-once', image: TEST_IMAGE, command: ['sleep', '30'], timeout: 1 });
    const t = await c.waitForState('timeout-once', 'failed', 20000);
    assert.ok(Date.now() - t0 < 10000, `failed after ${Date.now() - t0} ms, not within a few seconds`);
    assert.equal(t.runs?.length, 1);
    assert.equal(t.failures, 1);
    assert.equal(t.runs?.[0]?.exit_code, 124);
    assert.match(t.runs?.[0]?.reason ?? '', /^timeout: killed after 1 s$/);
    assert.match(t.reason ?? '', /exit code 124 is not in recoverable_exitcodes/);
    const ran = Date.parse(t.runs![0]!.finished_at!) - Date.parse(t.runs![0]!.started_at!);
    assert.ok(ran >= 900 && ran < 5000, `the run lasted ${ran} ms`);
    assert.deepEqual(await cluster.containersLeft('timeout-once'), [], 'its container is gone');
  });

  it('retries a timeout listed in recoverable_exitcodes, up to max_failures', async () => {
    const c = cluster.client;
    c.submit({ name: 'timeout-retried', image: TEST_IMAGE, command: ['sleep', '30'], timeout: 1, recoverable_exitcodes: [124], max_failures: 2 });
    const t = await c.waitForState('timeout-retried', 'failed', 30000);
    assert.equal(t.failures, 2);
    assert.deepEqual(t.runs?.map((r) => r.exit_code), [124, 124]);
    assert.deepEqual(t.runs?.map((r) => r.attempt), [1, 2]);
    assert.match(t.reason ?? '', /max_failures \(2\) reached/);
    assert.deepEqual(await cluster.containersLeft('timeout-retried'), []);
  });

  it('lets a run that ends within its timeout end as it does', async () => {
    const c = cluster.client;
    c.submit({ name: 'timeout-not-reached', image: TEST_IMAGE, command: ['sh', '-c', 'exit 0'], timeout: 20 });
    const t = await c.waitForState('timeout-not-reached', 'success', 20000);
    assert.equal(t.runs?.[0]?.exit_code, 0);
    assert.equal(t.runs?.[0]?.reason, null);
  });

  it('reports the exit of a container that ended while its agent was down', async () => {
    const c = cluster.client;
    c.submit({ name: 'exit-while-away', image: TEST_IMAGE, command: ['sh', '-c', 'sleep 3; exit 5'] });
    await c.waitForState('exit-while-away', 'running', 20000);
    await agent().kill();
    // Until its container has ended (`sleep 3; exit 5`) while no agent watches it.
    await waitUntil('the container ended', async () => {
      const [c1] = await containersOf('exit-while-away');
      return c1 !== undefined && c1.State === 'exited';
    }, 15000);
    // The scenario is the one claimed: the container ended, and nobody has read or removed it.
    const [left] = await containersOf('exit-while-away');
    assert.ok(left, 'its container is still there');
    const info = await cluster.docker.getContainer(left.Id).inspect();
    assert.equal(info.State.Running, false);
    assert.equal(info.State.ExitCode, 5);
    const restartedAt = Date.now();
    cluster.startAgent({ host: HOST, executors: 'docker', slots: 4 });
    await cluster.waitForAgent(HOST);

    const t = await c.waitForState('exit-while-away', 'failed', 20000);
    assert.equal(t.runs?.length, 1);
    assert.equal(t.failures, 1);
    assert.equal(t.runs?.[0]?.exit_code, 5);
    assert.match(t.reason ?? '', /exit code 5 is not in recoverable_exitcodes/);
    assert.ok(Date.parse(t.runs![0]!.finished_at!) < restartedAt, 'finished_at is when the container ended, not when it was found');
    const adopted = agent().lines.filter((l) => l['msg'] === 'run adopted' && l['task'] === 'exit-while-away');
    assert.equal(adopted.length, 1);
    assert.equal(adopted[0]!['attempt'], 1);
    assert.equal(adopted[0]!['host'], HOST);
    assert.equal(adopted[0]!['running'], false);
    assert.deepEqual(await cluster.containersLeft('exit-while-away'), [], 'no container of it is left');
  });

  it('follows a container still running at restart to its end, with one run, and announces it meanwhile', async () => {
    const c = cluster.client;
    c.submit({ name: 'running-at-restart', image: TEST_IMAGE, command: ['sh', '-c', 'sleep 6; exit 0'] });
    await c.waitForState('running-at-restart', 'running', 20000);
    const { readyAt } = await crashAgentFor(2000);

    const adopted = agent().lines.find((l) => l['msg'] === 'run adopted' && l['task'] === 'running-at-restart');
    assert.equal(adopted?.['running'], true);
    // The new agent's announcements list the adopted run and count its slot.
    const deadline = Date.now() + 5000;
    let seen: HostAnnounce | undefined;
    while (!seen && Date.now() < deadline) {
      seen = announcements.find((a) => a.host === HOST && Date.parse(a.at) >= readyAt - 1000
        && a.running.some((r) => r.name === 'running-at-restart' && r.attempt === 1));
      if (!seen) await sleep(100);
    }
    assert.ok(seen, 'an announcement after the restart lists the adopted run');
    assert.equal(seen.free_slots, seen.slots - seen.running.length);
    assert.ok((seen.free_slots ?? 4) < 4);

    const t = await c.waitForState('running-at-restart', 'success', 30000);
    assert.equal(t.runs?.length, 1);
    assert.equal(t.runs?.[0]?.attempt, 1);
    assert.equal(t.runs?.[0]?.exit_code, 0);
    assert.equal(t.failures, 0);
    assert.deepEqual(await cluster.containersLeft('running-at-restart'), []);
    // A later announcement has the slot free again.
    const last = await waitFor('an announcement with every slot free', () => {
      const a = announcements.filter((x) => x.host === HOST).at(-1);
      return a?.free_slots === 4 ? a : undefined;
    }, 5000).catch(() => announcements.filter((a) => a.host === HOST).at(-1));
    assert.equal(last?.free_slots, 4);
    assert.deepEqual(last?.running, []);
  });

  it('keeps the timeout of an adopted run, counted from the container\'s start', async () => {
    const c = cluster.client;
    c.submit({ name: 'timeout-while-away', image: TEST_IMAGE, command: ['sleep', '60'], timeout: 5 });
    await c.waitForState('timeout-while-away', 'running', 20000);
    const [container] = await containersOf('timeout-while-away');
    assert.equal(container?.Labels['tangerine.timeout'], '5');
    // Down past the run's deadline: the new agent kills it at once, not 5 s after it found it.
    const { readyAt } = await crashAgentFor(6500);
    const t = await c.waitForState('timeout-while-away', 'failed', 20000);
    assert.ok(Date.now() - readyAt < 3500, `failed ${Date.now() - readyAt} ms after the agent was back`);
    assert.equal(t.runs?.length, 1);
    assert.equal(t.runs?.[0]?.exit_code, 124);
    assert.match(t.runs?.[0]?.reason ?? '', /^timeout: killed after 5 s$/);
    assert.deepEqual(await cluster.containersLeft('timeout-while-away'), []);
  });

  it('acks a stop for a run the agent does not hold, and does nothing', async () => {
    const c = cluster.client;
    const lines = () => agent().lines.filter((l) => l['task'] === 'never-here' && l['attempt'] === 7);
    // Through JetStream, as intake sends it: the reply is the stream's ack of the publish.
    await c.nc.request(Subjects.agentStop.make(HOST), new TextEncoder().encode(JSON.stringify({ name: 'never-here', attempt: 7, host: HOST, reason: 'cancelled' })));
    await agent().waitForLine((l) => l['task'] === 'never-here' && l['msg'] === 'stop for a run this agent does not hold: nothing to do', 10000);
    // Unacked, it would come again after ACK_WAIT (3 s): only time can tell that it did not, so 4.5 s, one and a half
    // ACK_WAITs.
    await sleep(4500);
    assert.equal(lines().length, 1, JSON.stringify(lines()));
    assert.ok(!agent().lines.some((l) => l['msg'] === 'dispatch could not be handled; terminating it'));
  });

  it('leaves no container behind', async () => {
    // An agent removes a container once its exit report is stored: give the last ones up to 5 s.
    const left = await waitFor('no container left', async () => ((await cluster.containers()).length === 0 ? [] : undefined), 5000)
      .catch(() => cluster.containers());
    assert.deepEqual(left.map((x) => x.Names), []);
  });
});
