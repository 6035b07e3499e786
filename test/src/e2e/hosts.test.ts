import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subjects, type HostEvent, type HostView, type TaskView } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE, type AgentOptions } from '../helpers/cluster.js';
import { waitFor, waitUntil } from '../helpers/wait.js';
const HOST_TIMEOUT_S = 3;

/**
 * Hosts fail, tasks don't: two agents as their own processes; one is SIGKILLed under a running container.
 * HOST_TIMEOUT is 3 s here, so "within HOST_TIMEOUT + a few seconds" stays short.
 */
describe('host health end to end', () => {
  const cluster = new Cluster('hosts', { HOST_TIMEOUT: String(HOST_TIMEOUT_S) });
  const agents: AgentOptions[] = [{ host: 'host-a', labels: 'pool=x', slots: 3 }, { host: 'host-b', labels: 'pool=x', slots: 3 }];

  const hostEvents: HostEvent[] = [];
  before(async () => {
    await cluster.start({ agents });
    cluster.client.nc.subscribe(Subjects.hostEvents.wildcard, {
      callback: (_e, m) => { hostEvents.push(JSON.parse(new TextDecoder().decode(m.data)) as HostEvent); },
    });
    await cluster.client.nc.flush();
  });
  after(async () => {
    await cluster.stop();
  });

  const hosts = async () => (await cluster.client.request<{ hosts: HostView[] }>('hosts.list', {})).hosts;
  const containerOf = async (name: string, attempt: number) =>
    (await cluster.docker.listContainers({ all: true, filters: { label: [`tangerine.task=${name}`, `tangerine.attempt=${attempt}`] } }))[0];

  async function untilGone(name: string, attempt: number, message: string): Promise<void> {
    await waitUntil(message, async () => (await containerOf(name, attempt)) === undefined, 10000);
  }

  /** Starts the task, SIGKILLs the agent running it, and returns the time of the kill and the host. */
  async function killUnder(name: string): Promise<{ host: string; killedAt: number; first: TaskView }> {
    const first = await cluster.client.waitForState(name, 'running', 20000);
    const host = first.runs![0]!.host!;
    await cluster.agents.get(host)!.kill();
    return { host, killedAt: Date.now(), first };
  }

  it('lists every host with its state, labels, slots and runs', async () => {
    // host-health writes heartbeats once per interval: both hosts are listed once each has been heard from.
    const list = await waitFor('both hosts listed', async () => {
      const l = await hosts();
      return l.length >= 2 ? l : undefined;
    }, 5000);
    assert.deepEqual(list.map((h) => [h.host, h.state, h.labels, h.slots]), [['host-a', 'up', { pool: 'x' }, 3], ['host-b', 'up', { pool: 'x' }, 3]]);
  });

  it('a host that stops answering goes down; its restartable task is ready again and succeeds on the other host; '
    + 'the killed agent, started again, stops its stale container and its old report is ignored', async () => {
    const c = cluster.client;
    c.submit({ name: 'survivor', image: TEST_IMAGE, command: ['sleep', '6'], max_failures: 1 });
    const { host, killedAt } = await killUnder('survivor');
    const other = host === 'host-a' ? 'host-b' : 'host-a';
    const requeued = await c.waitFor('survivor', (t) => t.attempt === 2, (HOST_TIMEOUT_S + 6) * 1000);
    const after = (Date.now() - killedAt) / 1000;
    assert.ok(after <= HOST_TIMEOUT_S + 4, `requeued ${after.toFixed(1)} s after the kill`);
    assert.equal(requeued.failures, 0, 'a host loss is not a failure');
    assert.equal(requeued.runs![0]!.reason, 'host_lost');
    assert.equal((await hosts()).find((h) => h.host === host)?.state, 'down');
    await c.waitForEvent((e) => e.name === 'survivor' && e.state === 'ready' && (e.reason?.startsWith('host_lost') ?? false));

    // The old container still runs its sleep: the agent comes back, takes it over, and is told to stop it.
    assert.ok(await containerOf('survivor', 1), 'the first container outlived its agent');
    cluster.startAgent(agents.find((a) => a.host === host)!);
    await cluster.waitForAgent(host);
    await untilGone('survivor', 1, 'the stale container was not stopped');
    const done = await c.waitForState('survivor', 'success', 20000);
    assert.equal(done.runs!.length, 2);
    assert.equal(done.runs![1]!.host, other);
    assert.equal(done.runs![1]!.exit_code, 0);
    // The report of attempt 1 (its container was stopped) changed nothing.
    assert.equal(done.runs![0]!.reason, 'host_lost');
    assert.equal(done.runs![0]!.exit_code, null);
    assert.equal((await hosts()).find((h) => h.host === host)?.state, 'up');
  });

  it('a task that may not restart ends failed with host_lost', async () => {
    const c = cluster.client;
    c.submit({ name: 'fragile', image: TEST_IMAGE, command: ['sleep', '30'], restartable: false });
    const { host } = await killUnder('fragile');
    const failed = await c.waitForState('fragile', 'failed', (HOST_TIMEOUT_S + 6) * 1000);
    assert.match(failed.reason ?? '', /^host_lost/);
    assert.equal(failed.runs!.length, 1);
    cluster.startAgent(agents.find((a) => a.host === host)!);
    await cluster.waitForAgent(host);
    // Fenced as well: the container of a failed task is stopped once its host is heard from again.
    await untilGone('fragile', 1, 'the container of the failed task was not stopped');
    assert.equal((await c.get('fragile') as TaskView).state, 'failed');
  });

  it('gives a draining host nothing new, and takes it back on undrain', async () => {
    const c = cluster.client;
    assert.deepEqual(await c.request('hosts.drain', { host: 'host-a' }), { host: 'host-a', state: 'draining' });
    // The placer reads host states again on each host event (and every two seconds); its placement's compare-and-set
    // reads the host's state in the ledger anyway. The event of the drain is what the placer acts on: wait for it.
    await waitFor('the drain of host-a announced', () => hostEvents.find((e) => e.host === 'host-a' && e.state === 'draining'), 10000);
    for (let i = 0; i < 6; i++) c.submit({ name: `drained-${i}`, image: TEST_IMAGE, command: ['true'] });
    for (let i = 0; i < 6; i++) assert.equal((await c.waitForState(`drained-${i}`, 'success')).runs![0]!.host, 'host-b');
    assert.equal((await hosts()).find((h) => h.host === 'host-a')?.state, 'draining');
    assert.deepEqual(await c.request('hosts.undrain', { host: 'host-a' }), { host: 'host-a', state: 'up' });
    const unknown = await c.request<{ error: { code: string; field: string } }>('hosts.drain', { host: 'nowhere' });
    assert.deepEqual([unknown.error.code, unknown.error.field], ['not_found', 'host']);
  });
});
