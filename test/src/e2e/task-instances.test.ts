import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TaskView } from '@tangerine/contracts';
import { openLedger, type Ledger } from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { Cluster } from '../helpers/cluster.js';
import { Ec2Server, type Ec2Request, type FakeInstance } from '../helpers/ec2-server.js';
import { waitUntil } from '../helpers/wait.js';

const AMI = 'ami-0123456789abcdef0';
const SETTINGS = {
  TASK_INSTANCE_AMI: AMI, TASK_INSTANCE_SUBNET: 'subnet-0123456789abcdef0', TASK_INSTANCE_SECURITY_GROUPS: 'sg-0123456789abcdef0,sg-0fedcba9876543210',
  TASK_INSTANCE_KEY_NAME: 'tangerine-ops', TASK_INSTANCE_PROFILE: 'tangerine-agent', TASK_INSTANCE_TAGS: 'team=batch',
  TASK_INSTANCE_START: 'systemctl start tangerine-agent', TASK_INSTANCE_INTERVAL: '0.5', TASK_INSTANCE_SWEEP: '1',
};

/**
 * One EC2 instance per task (a spec's `instance`): the autoscaler with its real @aws-sdk/client-ec2 against the local
 * EC2 server. On each launch the fake starts a real local agent with the variables the instance's user data writes
 * (its host id, AGENT_ONLY_TASK, one slot), and stops it when the instance is terminated, as EC2 would.
 */
describe('per-task instances, against the local EC2 server', () => {
  const ec2 = new Ec2Server();
  let cluster: Cluster;
  let ledger: Ledger;
  /** Launches the fake saw, for the mirror to start their agents (the hook is synchronous; starting one is not). */
  const launched: Array<{ instance: FakeInstance; env: Record<string, string> }> = [];
  const hostOf = new Map<string, string>();
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();
  let watchError: unknown = null;

  const mirror = async (): Promise<void> => {
    while (watching) {
      try {
        for (const l of launched.splice(0)) {
          hostOf.set(l.instance.instanceId, l.env.HOST_ID!);
          await cluster.addAgent({
            host: l.env.HOST_ID!, slots: Number(l.env.HOST_SLOTS), executors: 'process', env: { AGENT_ONLY_TASK: l.env.AGENT_ONLY_TASK! },
          });
        }
        for (const [id, host] of hostOf) {
          const agent = cluster.agents.get(host);
          if (ec2.instances.get(id)?.state !== 'running' && ec2.instances.get(id)?.state !== 'pending' && agent?.exit === null) await agent.stop();
        }
      } catch (err) {
        watchError = err;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    await ec2.start();
    ec2.onLaunch = (instance, params) => {
      const script = Buffer.from(params.UserData ?? '', 'base64').toString('utf8');
      launched.push({ instance, env: userDataEnv(script) });
    };
    const fleetId = ec2.addFleet({ targetCapacity: 1 }).id;
    cluster = new Cluster('task-instances', {
      AUTOSCALER_PROVIDER: 'spot-fleet', SPOT_FLEET_REQUEST_ID: fleetId, AWS_ENDPOINT_URL_EC2: ec2.url, AWS_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7FAKE0015', AWS_SECRET_ACCESS_KEY: 'fake/secret/for/the/local/ec2/server',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', EVALUATION_INTERVAL: '2', HOST_TIMEOUT: '30', ...SETTINGS,
    });
    // Two autoscaler replicas: one leads, and the other's presence must launch nothing twice.
    await cluster.start({
      services: ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'relay', 'api', 'autoscaler', 'autoscaler-2'],
      agents: [{ host: 'fleet-1', executors: 'process', slots: 4 }],
    });
    // The host ids the launches will give (task-instance-<row id>, ids from 1 in this fresh database).
    await cluster.addAgentIdentities(Array.from({ length: 8 }, (_, i) => `task-instance-${i + 1}`));
    ledger = openLedger({ databaseUrl: cluster.databaseUrl, log: createLogger('test', { level: 'silent', pretty: false }) });
    watcher = mirror();
  });
  after(async () => {
    watching = false;
    await watcher;
    await ledger?.close();
    await cluster?.stop();
    await ec2.stop();
  });

  const runs = (task: string): Ec2Request[] => ec2.calls('RunInstances').filter((r) => r.params['TagSpecification.1.Tag.3.Value'] === task);
  const terminated = (): string[] => ec2.calls('TerminateInstances').filter((r) => r.errorCode === null).map((r) => r.params['InstanceId.1']!);
  const view = async (name: string): Promise<TaskView> => {
    const t = await cluster.client.get(name);
    assert.ok(!('error' in t), JSON.stringify(t));
    return t;
  };

  it('launches one spot instance for a task, with the exact RunInstances parameters, runs it there alone, and terminates it after success', async () => {
    const c = cluster.client;
    c.submit({ name: 'pt-ok', executor: 'process', command: ['sh', '-c', 'echo on my own'], instance: { type: 'c5.large' } });
    c.submit({ name: 'pt-plain', executor: 'process', command: ['sh', '-c', 'echo anywhere'] });
    const done = await c.waitForState('pt-ok', 'success', 120_000);
    assert.equal(watchError, null);
    const sent = runs('pt-ok');
    assert.equal(sent.length, 1, 'one launch for the task');
    const id = done.host!.replace('task-instance-', '');
    assert.match(done.host!, /^task-instance-\d+$/);
    const script = Buffer.from(sent[0]!.params.UserData!, 'base64').toString('utf8');
    assert.equal(script, [
      '#!/bin/sh', '# Tangerine: an agent that takes only task pt-ok (services/autoscaler/README.md, "One instance per task").', 'set -eu',
      'mkdir -p /etc/tangerine', "cat > /etc/tangerine/task-instance.env <<'TANGERINE_TASK_ENV'",
      `HOST_ID=task-instance-${id}`, 'AGENT_ONLY_TASK=pt-ok', 'HOST_SLOTS=1', 'TANGERINE_TASK_ENV', 'systemctl start tangerine-agent', '',
    ].join('\n'));
    assert.deepEqual(sent[0]!.params, {
      Action: 'RunInstances', Version: '2016-11-15', ImageId: AMI, InstanceType: 'c5.large', MinCount: '1', MaxCount: '1',
      ClientToken: `tangerine-task-instance-${id}`, UserData: sent[0]!.params.UserData, InstanceInitiatedShutdownBehavior: 'terminate',
      'InstanceMarketOptions.MarketType': 'spot', 'InstanceMarketOptions.SpotOptions.SpotInstanceType': 'one-time',
      'InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior': 'terminate',
      SubnetId: 'subnet-0123456789abcdef0', 'SecurityGroupId.1': 'sg-0123456789abcdef0', 'SecurityGroupId.2': 'sg-0fedcba9876543210',
      KeyName: 'tangerine-ops', 'IamInstanceProfile.Name': 'tangerine-agent',
      'TagSpecification.1.ResourceType': 'instance',
      'TagSpecification.1.Tag.1.Key': 'team', 'TagSpecification.1.Tag.1.Value': 'batch',
      'TagSpecification.1.Tag.2.Key': 'Name', 'TagSpecification.1.Tag.2.Value': 'tangerine-pt-ok',
      'TagSpecification.1.Tag.3.Key': 'tangerine:task', 'TagSpecification.1.Tag.3.Value': 'pt-ok',
      'TagSpecification.1.Tag.4.Key': 'tangerine:task-instance', 'TagSpecification.1.Tag.4.Value': id,
    });
    const instance = [...ec2.instances.values()].find((i) => i.tags?.['tangerine:task'] === 'pt-ok')!;
    await waitUntil('its instance terminated', () => terminated().includes(instance.instanceId), 30_000);
    // The task's state shows its instance, as job-scheduler's /status did.
    await waitUntil('the view to show it ended', async () => (await view('pt-ok')).instance?.ended_at !== null, 30_000);
    const shown = (await view('pt-ok')).instance!;
    assert.equal(shown.instance_id, instance.instanceId);
    assert.equal(shown.type, 'c5.large');
    assert.equal(shown.spot, true);
    assert.equal(shown.host, done.host);
    assert.equal(shown.private_address, instance.privateIpAddress);
    assert.equal(shown.address, instance.publicIpAddress);
    assert.match(shown.reason ?? '', /terminated: the task is success/);
    // The plain task ran on the fleet's host, never on the task's own.
    const plain = await c.waitForState('pt-plain', 'success', 60_000);
    assert.equal(plain.host, 'fleet-1');
    assert.equal(terminated().filter((i) => i === instance.instanceId).length, 1, 'terminated once');
  });

  it('terminates the instance after the task failed', async () => {
    const c = cluster.client;
    c.submit({ name: 'pt-fail', executor: 'process', command: ['sh', '-c', 'exit 3'], restartable: false, instance: { type: 'm5.xlarge', spot: false } });
    await c.waitForState('pt-fail', 'failed', 120_000);
    const sent = runs('pt-fail');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.params.InstanceType, 'm5.xlarge');
    assert.equal(sent[0]!.params['InstanceMarketOptions.MarketType'], undefined, 'on demand: no spot options');
    const instance = [...ec2.instances.values()].find((i) => i.tags?.['tangerine:task'] === 'pt-fail')!;
    await waitUntil('its instance terminated', () => terminated().includes(instance.instanceId), 30_000);
  });

  it('launches once when the launch is redone (ClientToken) and a second replica runs, and sweeps a stray instance', async () => {
    const c = cluster.client;
    c.submit({ name: 'pt-twice', executor: 'process', command: ['sh', '-c', 'sleep 4'], instance: { type: 'c5.large' } });
    await waitUntil('its launch recorded', async () => {
      const [r] = await ledger.query<{ instance_id: string | null }>("SELECT instance_id FROM task_instances WHERE task = 'pt-twice' AND ended_at IS NULL");
      return (r?.instance_id ?? null) !== null;
    }, 60_000);
    // As if the autoscaler died after RunInstances answered and before it recorded the instance: the launch is redone.
    await ledger.query("UPDATE task_instances SET instance_id = NULL, state = 'launching' WHERE task = 'pt-twice' AND ended_at IS NULL");
    await waitUntil('the launch sent again', () => runs('pt-twice').length >= 2, 30_000);
    await c.waitForState('pt-twice', 'success', 120_000);
    const sent = runs('pt-twice');
    assert.equal(new Set(sent.map((r) => r.params.ClientToken)).size, 1, 'the same ClientToken each time');
    const instances = [...ec2.instances.values()].filter((i) => i.tags?.['tangerine:task'] === 'pt-twice');
    assert.equal(instances.length, 1, 'one instance for the task');
    const [rows] = await ledger.query<{ n: number }>("SELECT count(*)::int AS n FROM task_instances WHERE task = 'pt-twice'");
    assert.equal(rows?.n, 1, 'one ledger row for the task');
    await waitUntil('its instance terminated', () => terminated().includes(instances[0]!.instanceId), 30_000);
    // An instance Tangerine tagged whose row is unknown (a lost ledger, a launch recorded nowhere): swept.
    const stray: FakeInstance = {
      instanceId: 'i-0badc0ffee0000001', fleetId: null, instanceType: 'c5.large', state: 'running', launchedAt: new Date(), nextAt: 0,
      tags: { 'tangerine:task': 'long-gone', 'tangerine:task-instance': '999999' },
    };
    ec2.instances.set(stray.instanceId, stray);
    await waitUntil('the stray instance swept', () => terminated().includes(stray.instanceId), 30_000);
  });

  it('terminates the instance of a task that ended while the autoscaler was SIGKILLed, once it is started again', async () => {
    const c = cluster.client;
    // Only one replica from here, so that killing it leaves none.
    await cluster.services.get('autoscaler-2')!.kill();
    c.submit({ name: 'pt-kill', executor: 'process', command: ['sh', '-c', 'sleep 3; echo done'], instance: { type: 'c5.large' } });
    await c.waitForState('pt-kill', 'running', 120_000);
    await cluster.services.get('autoscaler')!.kill();
    await c.waitForState('pt-kill', 'success', 60_000);
    const instance = [...ec2.instances.values()].find((i) => i.tags?.['tangerine:task'] === 'pt-kill')!;
    assert.equal(instance.state, 'running', 'nobody terminated it while the autoscaler was away');
    const p = cluster.startService('autoscaler');
    await cluster.waitForStarted('autoscaler', p);
    await waitUntil('its instance terminated', () => terminated().includes(instance.instanceId), 60_000);
    assert.equal(runs('pt-kill').length, 1);
    // No key ever in the autoscaler's lines.
    for (const key of ['autoscaler', 'autoscaler-2']) {
      const text = JSON.stringify(cluster.services.get(key)!.lines);
      assert.ok(!text.includes('fake/secret/for/the/local/ec2/server') && !text.includes('AKIAIOSFODNN7FAKE0015'), `${key} logged a key`);
    }
  });
});

/** The variables between the user data's heredoc markers (what the instance's agent is started with). */
function userDataEnv(script: string): Record<string, string> {
  const m = /<<'TANGERINE_TASK_ENV'\n([\s\S]*?)\nTANGERINE_TASK_ENV\n/.exec(script);
  assert.ok(m, `no Tangerine environment in ${script}`);
  return Object.fromEntries(m[1]!.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
