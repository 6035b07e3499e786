import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeInstancesCommand, DescribeSpotFleetInstancesCommand, DescribeSpotFleetRequestsCommand, EC2Client, type EC2ServiceException,
  ModifySpotFleetRequestCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Ec2Server, listParam } from '../helpers/ec2-server.js';

/** The local EC2 server, spoken to by the real @aws-sdk/client-ec2: what it keeps, records and answers. */
describe('local EC2 server', () => {
  const ec2 = new Ec2Server();
  let client: EC2Client;
  const warning = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  before(async () => {
    // The SDK's notice that its releases after January 2027 need Node 22: noise in a test on Node 20.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    await ec2.start();
    client = new EC2Client({
      endpoint: ec2.url, region: 'eu-west-1', maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE0001', secretAccessKey: 'fake/secret/key', sessionToken: 'fake-session-token' },
    });
  });
  after(async () => {
    client.destroy();
    await ec2.stop();
    if (warning === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = warning;
  });

  const activeIds = async (id: string): Promise<string[]> => {
    const out = await client.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: id }));
    return (out.ActiveInstances ?? []).map((i) => i.InstanceId!).sort();
  };

  it('describes a fleet, its instances and their states as the SDK parses them', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 2 });
    const out = await client.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [fleet.id] }));
    const config = out.SpotFleetRequestConfigs?.[0];
    assert.equal(config?.SpotFleetRequestId, fleet.id);
    assert.equal(config?.SpotFleetRequestState, 'active');
    assert.equal(config?.SpotFleetRequestConfig?.TargetCapacity, 2);
    assert.equal(config?.SpotFleetRequestConfig?.Type, 'maintain');
    const ids = await activeIds(fleet.id);
    assert.equal(ids.length, 2);
    for (const id of ids) assert.match(id, /^i-[0-9a-f]{17}$/);
    const described = await client.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const instances = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    assert.deepEqual(instances.map((i) => i.State?.Name), ['running', 'running']);
    assert.ok(instances.every((i) => i.LaunchTime instanceof Date));

    const sent = ec2.calls('DescribeInstances').at(-1)!;
    assert.deepEqual(listParam(sent.params, 'InstanceId'), ids);
    assert.equal(sent.params.Version, '2016-11-15');
    assert.equal(sent.accessKeyId, 'AKIAFAKEFAKEFAKE0001');
    assert.equal(sent.securityToken, 'fake-session-token');
  });

  it('raises the target with new pending instances, and keeps them on a lower target with noTermination', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 1 });
    assert.equal((await activeIds(fleet.id)).length, 1);
    ec2.pendingMs = 60_000;
    try {
      await client.send(new ModifySpotFleetRequestCommand({ SpotFleetRequestId: fleet.id, TargetCapacity: 4, ExcessCapacityTerminationPolicy: 'noTermination' }));
      assert.deepEqual(ec2.calls('ModifySpotFleetRequest').at(-1)!.params, {
        Action: 'ModifySpotFleetRequest', Version: '2016-11-15', SpotFleetRequestId: fleet.id, TargetCapacity: '4',
        ExcessCapacityTerminationPolicy: 'noTermination',
      });
      assert.deepEqual(ec2.fleetInstances(fleet.id).map((i) => i.state).sort(), ['pending', 'pending', 'pending', 'running']);
    } finally {
      ec2.pendingMs = 0;
    }
    await client.send(new ModifySpotFleetRequestCommand({ SpotFleetRequestId: fleet.id, TargetCapacity: 1, ExcessCapacityTerminationPolicy: 'noTermination' }));
    assert.equal((await activeIds(fleet.id)).length, 4);
  });

  it('terminates the ids asked, and a maintain fleet replaces what it lost unless its target was lowered first', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 3 });
    const [a, b, c] = await activeIds(fleet.id);
    const out = await client.send(new TerminateInstancesCommand({ InstanceIds: [a!] }));
    assert.deepEqual(out.TerminatingInstances?.map((t) => [t.InstanceId, t.PreviousState?.Name, t.CurrentState?.Name]), [[a, 'running', 'shutting-down']]);
    const replaced = await activeIds(fleet.id);
    assert.equal(replaced.length, 3);
    assert.ok(!replaced.includes(a!) && replaced.includes(b!) && replaced.includes(c!));

    await client.send(new ModifySpotFleetRequestCommand({ SpotFleetRequestId: fleet.id, TargetCapacity: 2, ExcessCapacityTerminationPolicy: 'noTermination' }));
    await client.send(new TerminateInstancesCommand({ InstanceIds: [b!] }));
    assert.deepEqual(await activeIds(fleet.id), replaced.filter((id) => id !== b).sort());
    assert.equal(ec2.instances.get(a!)?.state, 'terminated');
  });

  it('answers EC2 errors with their code, the injected ones for the next calls only', async () => {
    const fleet = ec2.addFleet();
    ec2.failNext({ code: 'RequestLimitExceeded', times: 2, actions: ['ModifySpotFleetRequest'] });
    const modify = (): Promise<unknown> => client.send(new ModifySpotFleetRequestCommand({ SpotFleetRequestId: fleet.id, TargetCapacity: 2 }));
    for (let n = 0; n < 2; n++) {
      await assert.rejects(modify(), (e: EC2ServiceException) => e.name === 'RequestLimitExceeded' && e.$metadata.httpStatusCode === 503);
    }
    await client.send(new DescribeSpotFleetRequestsCommand({}));
    await modify();
    assert.deepEqual(ec2.calls('ModifySpotFleetRequest').slice(-3).map((r) => r.errorCode), ['RequestLimitExceeded', 'RequestLimitExceeded', null]);

    await assert.rejects(
      client.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: 'sfr-00000000-0000-0000-0000-000000000000' })),
      (e: EC2ServiceException) => e.name === 'InvalidSpotFleetRequestId.NotFound' && /does not exist/.test(e.message),
    );
    await assert.rejects(client.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })), { name: 'InvalidInstanceID.NotFound' });
    ec2.failNext({ code: 'AuthFailure' });
    await assert.rejects(client.send(new DescribeSpotFleetRequestsCommand({})), (e: EC2ServiceException) => e.name === 'AuthFailure' && e.$metadata.httpStatusCode === 401);
    ec2.failNext({ code: 'InsufficientInstanceCapacity' });
    await assert.rejects(modify(), (e: EC2ServiceException) => e.name === 'InsufficientInstanceCapacity' && e.$fault === 'server');
  });

  it('lets a spot interruption take an instance, replaced by a maintain fleet', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 1 });
    const [only] = await activeIds(fleet.id);
    ec2.interrupt(only!);
    const after = await activeIds(fleet.id);
    assert.equal(after.length, 1);
    assert.notEqual(after[0], only);
  });
});
