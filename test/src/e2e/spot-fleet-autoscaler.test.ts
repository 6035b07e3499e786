import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from '../helpers/cluster.js';
import { Ec2Server, listParam } from '../helpers/ec2-server.js';
import { waitUntil } from '../helpers/wait.js';

const LIMIT = 3;
const TASKS = Array.from({ length: 8 }, (_, i) => `sf-task-${i}`);

/**
 * The autoscaler service with AUTOSCALER_PROVIDER=spot-fleet, its real @aws-sdk/client-ec2 pointed at the local EC2
 * server. The fake's instances cannot run agents, so the test starts a real local agent for each one the fleet
 * launches, labelled instanceId=<its id>, and stops that agent when its instance is terminated, as EC2 would.
 */
describe('autoscaler with the Spot Fleet provider, against the local EC2 server', () => {
  const ec2 = new Ec2Server();
  let fleetId = '';
  let cluster: Cluster;
  /** The agent host of each instance id. */
  const hostOf = new Map<string, string>();
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
          await cluster.addAgent({ host, labels: `instanceId=${id}`, executors: 'process', slots: 2 });
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
    watcher = mirror();
    await waitUntil('the first instance\'s agent', () => cluster.agents.has('sf-0'), 30_000);
    await cluster.waitForAgent('sf-0');
  });
  after(async () => {
    watching = false;
    await watcher;
    await cluster.stop();
    await ec2.stop();
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
    // The target came down (noTermination) before the first termination: a maintain fleet would replace them otherwise.
    const firstTerminate = ec2.requests.indexOf(terminations[0]!);
    const lowered = ec2.requests.findIndex((r) => r.action === 'ModifySpotFleetRequest' && r.params.TargetCapacity === '1');
    assert.ok(lowered >= 0 && lowered < firstTerminate, 'the target was lowered first');
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

  it('never logs the AWS keys', () => {
    const text = JSON.stringify(cluster.services.get('autoscaler')!.lines) + cluster.services.get('autoscaler')!.stderrTail.join('\n');
    assert.ok(text.includes('RequestLimitExceeded'), 'the log holds the errors');
    for (const key of [cluster.extraEnv['AWS_ACCESS_KEY_ID']!, cluster.extraEnv['AWS_SECRET_ACCESS_KEY']!]) assert.ok(!text.includes(key));
  });
});
