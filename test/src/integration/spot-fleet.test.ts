import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ProviderError, SpotFleetProvider, type SpotFleetOptions } from '@tangerine/autoscaler';
import { createLogger } from '@tangerine/runtime';
import { Ec2Server, listParam } from '../helpers/ec2-server.js';

// Fake keys in the shapes AWS gives them, read by the SDK's standard chain from the environment.
const KEYS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7FAKE1234',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY5678',
  AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEFAKESESSIONTOKEN0123456789abcdef',
};

/** The Spot Fleet provider, with the real @aws-sdk/client-ec2, against the local EC2 server: the requests it sends. */
describe('Spot Fleet provider', () => {
  const ec2 = new Ec2Server();
  const saved: Record<string, string | undefined> = {};
  const providers: SpotFleetProvider[] = [];
  const logs: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
  const log = createLogger('autoscaler', { level: 'debug', pretty: false, destination: sink });

  const provider = (fleetId: string, opts: Partial<SpotFleetOptions> = {}): SpotFleetProvider => {
    const p = new SpotFleetProvider({ fleetId, limit: 5, region: 'eu-west-1', endpoint: ec2.url, log, ...opts });
    providers.push(p);
    return p;
  };
  const sentSince = (n: number): { action: string; params: Record<string, string> }[] =>
    ec2.requests.slice(n).map((r) => ({ action: r.action, params: r.params }));

  before(async () => {
    // The keys, and no region nor profile but the test's own.
    const env = {
      ...KEYS, AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/aws-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_PROFILE: undefined,
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await ec2.start();
  });
  beforeEach(() => {
    ec2.pendingMs = 0;
    ec2.pageSize = 1000;
  });
  after(async () => {
    for (const p of providers) await p.close();
    await ec2.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('describes the target and each instance, signed with the standard chain\'s keys', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 2 });
    const p = provider(fleet.id);
    const first = ec2.requests.length;
    const seen = await p.describe();
    assert.equal(seen.target, 2);
    const ids = ec2.fleetInstances(fleet.id).map((i) => i.instanceId);
    assert.deepEqual(seen.instances.map((i) => [i.instanceId, i.state]), ids.map((id) => [id, 'running']));
    assert.ok(seen.instances.every((i) => i.launchedAt instanceof Date));
    assert.deepEqual(sentSince(first), [
      { action: 'DescribeSpotFleetRequests', params: { Action: 'DescribeSpotFleetRequests', Version: '2016-11-15', 'SpotFleetRequestId.1': fleet.id } },
      { action: 'DescribeSpotFleetInstances', params: { Action: 'DescribeSpotFleetInstances', Version: '2016-11-15', SpotFleetRequestId: fleet.id, MaxResults: '1000' } },
      { action: 'DescribeInstances', params: { Action: 'DescribeInstances', Version: '2016-11-15', 'Filter.1.Name': 'instance-id', 'Filter.1.Value.1': ids[0]!, 'Filter.1.Value.2': ids[1]! } },
    ]);
    assert.ok(ec2.requests.slice(first).every((r) => r.accessKeyId === KEYS.AWS_ACCESS_KEY_ID && r.securityToken === KEYS.AWS_SESSION_TOKEN));
  });

  it('reads every page of the fleet\'s instances, and reports new ones pending', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 2 });
    const p = provider(fleet.id);
    ec2.pendingMs = 60_000;
    ec2.pageSize = 2;
    await p.setTarget(5);
    const first = ec2.requests.length;
    const seen = await p.describe();
    assert.equal(seen.instances.length, 5);
    assert.deepEqual(seen.instances.map((i) => i.state).sort(), ['pending', 'pending', 'pending', 'running', 'running']);
    assert.deepEqual(ec2.requests.slice(first).filter((r) => r.action === 'DescribeSpotFleetInstances').map((r) => r.params.NextToken), [undefined, '2', '4']);
  });

  it('raises the target to the number asked, never above EC2_SCALE_LIMIT nor below 1, always with noTermination', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 1 });
    const p = provider(fleet.id, { limit: 5 });
    const first = ec2.requests.length;
    for (const asked of [3, 7, 0, -2, 4.6]) await p.setTarget(asked);
    assert.deepEqual(sentSince(first).map((r) => r.params), ['3', '5', '1', '1', '5'].map((TargetCapacity) => ({
      Action: 'ModifySpotFleetRequest', Version: '2016-11-15', SpotFleetRequestId: fleet.id, TargetCapacity, ExcessCapacityTerminationPolicy: 'noTermination',
    })));
    await p.setTarget(1);
    assert.equal(ec2.fleetInstances(fleet.id).length, 5, 'a lower target terminates nothing');
    await assert.rejects(p.setTarget(Number.NaN), { name: 'ProviderError', code: 'InvalidTarget' });
    assert.equal(ec2.calls('ModifySpotFleetRequest').filter((r) => r.params.SpotFleetRequestId === fleet.id).length, 6);
  });

  it('terminates the chosen ids only, skipping ids not active in its fleet, and again sends nothing', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 3 });
    const other = ec2.addFleet({ targetCapacity: 1 });
    const p = provider(fleet.id);
    const [keep, b, c] = ec2.fleetInstances(fleet.id).map((i) => i.instanceId);
    const foreign = ec2.fleetInstances(other.id)[0]!.instanceId;
    await p.setTarget(1);
    const first = ec2.requests.length;
    await p.terminate([b!, c!, foreign, 'i-00000000000000000', b!]);
    const terminations = ec2.requests.slice(first).filter((r) => r.action === 'TerminateInstances');
    assert.equal(terminations.length, 1);
    assert.deepEqual(listParam(terminations[0]!.params, 'InstanceId'), [b, c]);
    assert.deepEqual(ec2.fleetInstances(fleet.id).map((i) => i.instanceId), [keep]);
    assert.equal(ec2.instances.get(foreign)?.state, 'running');
    assert.ok(logs.some((l) => l.includes('not active in this spot fleet') && l.includes(foreign)));

    const again = ec2.requests.length;
    await p.terminate([b!, c!]);
    assert.deepEqual(ec2.requests.slice(again).map((r) => r.action), ['DescribeSpotFleetInstances']);
    const before = ec2.requests.length;
    await assert.rejects(p.terminate(['i-1; rm -rf /']), { code: 'InvalidInstanceID.Malformed', retryable: false });
    assert.equal(ec2.requests.length, before, 'a malformed id sends nothing');
  });

  it('retries a throttled call after a backoff, and gives up after EC2_MAX_ATTEMPTS with the AWS code', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 1 });
    const p = provider(fleet.id, { maxAttempts: 3 });
    ec2.failNext({ code: 'RequestLimitExceeded', actions: ['ModifySpotFleetRequest'] });
    const first = ec2.requests.length;
    await p.setTarget(2);
    const tries = ec2.requests.slice(first);
    assert.deepEqual(tries.map((r) => [r.action, r.params.TargetCapacity, r.errorCode]), [
      ['ModifySpotFleetRequest', '2', 'RequestLimitExceeded'], ['ModifySpotFleetRequest', '2', null],
    ]);
    // The first retry waits 0.2–0.4 s (half-jittered): never at once.
    assert.ok(tries[1]!.at - tries[0]!.at >= 180, `retried after ${tries[1]!.at - tries[0]!.at} ms`);

    ec2.failNext({ code: 'RequestLimitExceeded', times: 3, actions: ['ModifySpotFleetRequest'] });
    const second = ec2.requests.length;
    await assert.rejects(p.setTarget(3), (e: ProviderError) => e instanceof ProviderError && e.code === 'RequestLimitExceeded' && e.retryable);
    assert.equal(ec2.requests.length - second, 3, 'bounded: three tries');
    await p.setTarget(3);
    assert.equal(ec2.requests.at(-1)!.errorCode, null, 'the next call is answered');
  });

  it('maps EC2 errors to ProviderErrors with the AWS code and whether waiting helps', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 1 });
    const p = provider(fleet.id, { maxAttempts: 1 });
    ec2.failNext({ code: 'InsufficientInstanceCapacity' });
    await assert.rejects(p.setTarget(2), { name: 'ProviderError', code: 'InsufficientInstanceCapacity', retryable: true });
    ec2.failNext({ code: 'Throttling' });
    await assert.rejects(p.describe(), { code: 'Throttling', retryable: true });
    const unknown = provider('sfr-00000000-0000-4000-8000-000000000000', { maxAttempts: 3 });
    const first = ec2.requests.length;
    await assert.rejects(unknown.describe(), (e: ProviderError) => e.code === 'InvalidSpotFleetRequestId.NotFound' && !e.retryable && /does not exist/.test(e.message));
    assert.equal(ec2.requests.length - first, 1, 'a client error is not retried');

    const nowhere = provider(fleet.id, { region: null });
    const before = ec2.requests.length;
    await assert.rejects(nowhere.describe(), { code: 'RegionMissing', retryable: false, message: /set AWS_REGION or AWS_DEFAULT_REGION/ });
    assert.equal(ec2.requests.length, before, 'nothing sent without a region');

    const closed = await freePort();
    const away = provider(fleet.id, { endpoint: `http://127.0.0.1:${closed}`, maxAttempts: 1 });
    await assert.rejects(away.describe(), { code: 'ECONNREFUSED', retryable: true });
  });

  it('never puts the AWS keys in an error, its message or a log line, even when EC2 quotes them', async () => {
    const fleet = ec2.addFleet({ targetCapacity: 1 });
    const p = provider(fleet.id, { maxAttempts: 1 });
    ec2.failNext({
      code: 'AuthFailure',
      message: `AWS was not able to validate the provided access credentials (key ${KEYS.AWS_ACCESS_KEY_ID}, token ${KEYS.AWS_SESSION_TOKEN}, secret ${KEYS.AWS_SECRET_ACCESS_KEY})`,
    });
    const err = await p.setTarget(2).then(() => assert.fail('AuthFailure expected'), (e: unknown) => e as ProviderError);
    assert.equal(err.code, 'AuthFailure');
    assert.equal(err.retryable, false);
    assert.match(err.message, /AuthFailure.*not able to validate/);
    assert.equal(ec2.requests.at(-1)!.accessKeyId, KEYS.AWS_ACCESS_KEY_ID, 'the request was signed with the keys');
    log.error({ err }, 'autoscaler: provider failed');
    const texts = [err.message, String(err), JSON.stringify(err), inspect(err, { depth: 5, showHidden: true }), err.stack ?? '', logs.join('')];
    for (const text of texts) {
      for (const [name, value] of Object.entries(KEYS)) assert.ok(!text.includes(value), `${name} leaked: ${text.slice(0, 300)}`);
    }
    assert.ok(logs.join('').includes('[redacted]'), 'the logged error shows where the keys were cut');
  });
});

/** A port with nothing listening on it. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
