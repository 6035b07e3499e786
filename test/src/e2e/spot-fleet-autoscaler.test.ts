import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from '../helpers/cluster.js';
import { Ec2Server, listParam } from '../helpers/ec2-server.js';
import { ImdsServer } from '../helpers/imds-server.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const LIMIT = 3;
const TASKS = Array.from({ length: 8 }, (_, i) => `sf-task-${i}`);

/**
 * The autoscaler service with AUTOSCALER_PROVIDER=spot-fleet, its real @aws-sdk/client-ec2 pointed at the local EC2
 * server. The fake's instances cannot run agents, so the test starts a real local agent for each one the fleet
 * launches, with a local instance metadata server of its own that gives it that instance's id (the agent announces
 * it as its label instanceId), and stops that agent when its instance is terminated, as EC2 would.
 */
describe('autoscaler with the Spot Fleet provider, against the local EC2 server', () => {
  const ec2 = new Ec2Server();
  let fleetId = '';
  let cluster: Cluster;
  /** The agent host of each instance id, and its metadata server. */
  const hostOf = new Map<string, string>();
  const imdsOf = new Map<string, ImdsServer>();
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();
  let watchError: unknown = null;

  /** Mirrors the fleet: an agent for each active instance, none for a terminated one. */
  const mirror = async (): Promise<void> => {
    while (watching) {
      try {
        const active = new Set(ec2.fleetInstances(fleetId).map((i) => i.instanceId));
        for (const id of active) {
          if (hostOf.has(id)) continue;
          const host = `sf-${hostOf.size}`;
          hostOf.set(id, host);
          const imds = await new ImdsServer(id).start();
          imdsOf.set(id, imds);
          await cluster.addAgent({ host, executors: 'process', slots: 2, env: { EC2_METADATA_URL: imds.url, SPOT_INTERRUPTION_POLL: '0.5' } });
        }
        for (const [id, host] of hostOf) {
          const agent = cluster.agents.get(host);
          if (!active.has(id) && agent?.exit === null) await agent.stop();
        }
      } catch (err) {
        watchError = err;
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    await ec2.start();
    fleetId = ec2.addFleet({ targetCapacity: 1 }).id;
    cluster = new Cluster('spot-fleet-autoscaler', {
      AUTOSCALER_PROVIDER: 'spot-fleet', SPOT_FLEET_REQUEST_ID: fleetId, EC2_SCALE_LIMIT: String(LIMIT),
      AWS_ENDPOINT_URL_EC2: ec2.url, AWS_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7FAKE0042', AWS_SECRET_ACCESS_KEY: 'fake/secret/for/the/local/ec2/server',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      EVALUATION_INTERVAL: '1', SCALE_UP_COOLDOWN: '1', SCALE_DOWN_IDLE: '3', SCALE_DOWN_COOLDOWN: '3', SCALE_DRAIN_SETTLE: '1',
      HOST_TIMEOUT: '30',
    });
    await cluster.start({ services: ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'relay', 'api', 'autoscaler'] });
    // The NATS identities of every agent the test may start, in the one reload of the first agent's addAgent: a reload
    // later, while the test reads tasks, would drop the api's pending reply permissions (a publish violation).
    for (let n = 1; n < 10; n++) cluster.identities!.addAgent(`sf-${n}`);
    watcher = mirror();
    await waitUntil('the first instance\'s agent', () => cluster.agents.has('sf-0'), 30_000);
    await cluster.waitForAgent('sf-0');
  });
  after(async () => {
    watching = false;
    await watcher;
    try {
      await cluster.stop();
    } finally {
      await ec2.stop();
      for (const imds of imdsOf.values()) await imds.stop();
    }
  });

  const modifies = (): Record<string, string>[] => ec2.calls('ModifySpotFleetRequest').filter((r) => r.errorCode === null).map((r) => r.params);

  it('raises the target to EC2_SCALE_LIMIT for a queue that needs more, through throttling, and every task runs once', async () => {
    const c = cluster.client;
    // EC2 throttles every try of the first scale-up (EC2_MAX_ATTEMPTS, 3): the autoscaler backs off, then tries again.
    ec2.failNext({ code: 'RequestLimitExceeded', times: 3, actions: ['ModifySpotFleetRequest'] });
    for (const name of TASKS) c.submit({ name, executor: 'process', command: ['sh', '-c', 'sleep 4; echo ok'] });
    await waitUntil('the fleet at its limit', () => ec2.fleetInstances(fleetId).length === LIMIT, 60_000);
    for (const name of TASKS) {
      const t = await c.waitForState(name, 'success', 90_000);
      assert.equal(t.runs?.length, 1, `${name} ran once`);
      assert.equal(t.failures, 0);
    }
    assert.equal(watchError, null);
    const sent = modifies();
    assert.ok(sent.length >= 1);
    for (const p of sent) {
      assert.equal(p.SpotFleetRequestId, fleetId);
      assert.equal(p.ExcessCapacityTerminationPolicy, 'noTermination');
      assert.ok(Number(p.TargetCapacity) >= 1 && Number(p.TargetCapacity) <= LIMIT, `target ${p.TargetCapacity}`);
    }
    assert.equal(Math.max(...sent.map((p) => Number(p.TargetCapacity))), LIMIT);
    const throttled = ec2.calls('ModifySpotFleetRequest').filter((r) => r.errorCode === 'RequestLimitExceeded');
    assert.equal(throttled.length, 3);
    const autoscaler = cluster.services.get('autoscaler')!;
    const backedOff = autoscaler.lines.find((l) => l['code'] === 'RequestLimitExceeded' && String(l['msg']).includes('backing off'));
    assert.ok(backedOff, 'the autoscaler backed off with the AWS code');
    const retried = ec2.calls('ModifySpotFleetRequest').find((r) => r.errorCode === null)!;
    assert.ok(retried.at - throttled.at(-1)!.at >= 900, 'tried again after its backoff (EVALUATION_INTERVAL, 1 s), not at once');
  });

  it('once the queue is empty, lowers the target to 1, then terminates the idle instances by id', async () => {
    await waitUntil('the fleet back to one instance', () => ec2.fleetInstances(fleetId).length === 1, 90_000);
    assert.equal(watchError, null);
    const terminations = ec2.calls('TerminateInstances').filter((r) => r.errorCode === null);
    const terminated = terminations.flatMap((r) => listParam(r.params, 'InstanceId')).sort();
    const kept = ec2.fleetInstances(fleetId).map((i) => i.instanceId);
    assert.deepEqual(terminated, [...hostOf.keys()].filter((id) => !kept.includes(id)).sort(), 'exactly the instances gone, by id');
    assert.equal(terminated.length, LIMIT - 1);
    // Before each termination the target came down (noTermination): a maintain fleet would replace them otherwise.
    const ok = ec2.requests.filter((r) => r.errorCode === null);
    for (const t of terminations) {
      const targets = ok.slice(0, ok.indexOf(t)).filter((r) => r.action === 'ModifySpotFleetRequest').map((r) => Number(r.params.TargetCapacity));
      assert.ok(targets.length >= 2 && targets.at(-1)! < targets.at(-2)!, `lowered before terminating (targets so far ${targets.join(', ')})`);
    }
    assert.equal(ec2.fleets.get(fleetId)!.targetCapacity, 1);
    assert.ok(modifies().every((p) => Number(p.TargetCapacity) >= 1), 'never below 1');
    // Each terminated host had been drained by the autoscaler (hosts.drain through host-health) first.
    const autoscaler = cluster.services.get('autoscaler')!;
    for (const id of terminated) {
      assert.ok(autoscaler.lines.some((l) => l['instance'] === id && String(l['msg']).includes('draining idle host')), `${id} drained first`);
    }
    // No task was lost to a termination: each ran once and succeeded (checked above), and none is left.
    for (const name of TASKS) assert.equal((await cluster.client.waitForState(name, 'success', 5000)).runs?.length, 1);
  });

  it('on a spot interruption, the host drains itself, the fleet replaces the instance, and the task runs there', async () => {
    const c = cluster.client;
    const [old] = ec2.fleetInstances(fleetId);
    const oldHost = hostOf.get(old!.instanceId)!;
    c.submit({ name: 'sf-interrupted', executor: 'process', command: ['sh', '-c', 'if [ "$TANGERINE_ATTEMPT" = 1 ]; then sleep 120; fi; echo done'] });
    const running = await c.waitForState('sf-interrupted', 'running', 30_000);
    assert.equal(running.runs?.at(-1)?.host, oldHost);
    imdsOf.get(old!.instanceId)!.notice = { action: 'terminate', time: new Date(Date.now() + 120_000).toISOString() };
    await c.waitForEvent((e) => e.name === 'sf-interrupted' && e.state === 'ready' && e.from === 'running', 30_000);
    // Two minutes later EC2 takes it; the maintain fleet launches another, whose agent joins and takes the task.
    ec2.interrupt(old!.instanceId);
    const t = await c.waitForState('sf-interrupted', 'success', 90_000);
    await waitFor('a replacement instance', () => ec2.fleetInstances(fleetId).find((i) => i.instanceId !== old!.instanceId));
    assert.equal(t.runs?.length, 2);
    assert.equal(t.runs?.[0]?.host, oldHost);
    // On the agent of an instance launched since (the replacement, or one the waiting task asked for).
    const since = [...hostOf].filter(([id]) => ec2.instances.get(id)!.launchedAt.getTime() > old!.launchedAt.getTime()).map(([, h]) => h);
    assert.ok(since.includes(t.runs?.[1]?.host ?? ''), `ran again on ${t.runs?.[1]?.host}, not on a new instance's agent (${since.join(', ')})`);
    assert.equal(t.failures, 0);
    assert.match(t.runs?.[1]?.output ?? '', /done/);
    assert.ok(modifies().every((p) => Number(p.TargetCapacity) >= 1 && Number(p.TargetCapacity) <= LIMIT));
  });

  it('never logs the AWS keys', () => {
    const text = JSON.stringify(cluster.services.get('autoscaler')!.lines) + cluster.services.get('autoscaler')!.stderrTail.join('\n');
    assert.ok(text.includes('RequestLimitExceeded'), 'the log holds the errors');
    for (const key of [cluster.extraEnv['AWS_ACCESS_KEY_ID']!, cluster.extraEnv['AWS_SECRET_ACCESS_KEY']!]) assert.ok(!text.includes(key));
  });
});
