import {
  DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand, type Instance, type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { backoff } from '@tangerine/runtime';
import { secretsInUse, toProviderError } from '../providers/spot-fleet-errors.js';
import type { TaskInstanceConfig } from './config.js';
import { userData } from './user-data.js';

/** The tags Tangerine puts on a per-task instance: the sweep finds every one by the launch tag. */
export const TAG_TASK = 'tangerine:task';
export const TAG_LAUNCH = 'tangerine:task-instance';
/** Ids per DescribeInstances filter (EC2 caps a filter's values at 200). */
const BATCH = 200;
const MAX_PAGES = 50;

export interface SeenInstance {
  instanceId: string;
  state: string;
  address: string | null;
  privateAddress: string | null;
  dnsName: string | null;
  launchedAt: Date | null;
  launch: string | null;
}

/** What a launch needs of its ledger row. */
export interface LaunchRow { id: string; task: string; host: string; instance_type: string; spot: boolean }

/**
 * The EC2 calls of the per-task instances, with @aws-sdk/client-ec2: RunInstances (spot market options, one instance,
 * the row's id as ClientToken), DescribeInstances by filter, TerminateInstances. Failures come back as ProviderErrors
 * with the AWS code and no credentials (the Spot Fleet provider's mapping).
 */
export class TaskInstanceEc2 {
  private readonly client: EC2Client;

  constructor(private readonly cfg: TaskInstanceConfig, endpoint?: string) {
    this.client = new EC2Client({
      region: cfg.awsRegion ?? cfg.awsDefaultRegion ?? undefined,
      endpoint,
      retryStrategy: new ConfiguredRetryStrategy(cfg.ec2MaxAttempts, (attempt) => backoff(attempt, 200, 5000)),
      requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
    });
  }

  /** RunInstances' input for a row: what the tests assert, and what an operator reads in the README. */
  input(row: LaunchRow): RunInstancesCommandInput {
    const c = this.cfg;
    const tags = { ...c.tags, Name: `tangerine-${row.task}`.slice(0, 255), [TAG_TASK]: row.task, [TAG_LAUNCH]: row.id };
    return {
      ImageId: c.ami!, InstanceType: row.instance_type as RunInstancesCommandInput['InstanceType'], MinCount: 1, MaxCount: 1,
      // Idempotent: a launch redone after a crash or a timeout gets the same instance back, never a second one.
      ClientToken: `tangerine-task-instance-${row.id}`,
      UserData: Buffer.from(userData({ host: row.host, task: row.task, start: c.start })).toString('base64'),
      InstanceInitiatedShutdownBehavior: 'terminate',
      ...(row.spot ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } } : {}),
      ...(c.subnet ? { SubnetId: c.subnet } : {}),
      ...(c.securityGroups ? { SecurityGroupIds: c.securityGroups.split(',') } : {}),
      ...(c.keyName ? { KeyName: c.keyName } : {}),
      ...(c.profile ? { IamInstanceProfile: c.profile.startsWith('arn:') ? { Arn: c.profile } : { Name: c.profile } } : {}),
      TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    };
  }

  async launch(row: LaunchRow): Promise<SeenInstance> {
    const out = await this.call('RunInstances', () => this.client.send(new RunInstancesCommand(this.input(row))));
    const inst = out.Instances?.[0];
    if (!inst?.InstanceId) throw toProviderError('RunInstances', Object.assign(new Error('EC2 answered no instance'), { name: 'NoInstance' }), []);
    return seen(inst);
  }

  /** These instances as EC2 describes them now; an id not described yet is left out. */
  async describe(ids: readonly string[]): Promise<Map<string, SeenInstance>> {
    const found = new Map<string, SeenInstance>();
    for (let i = 0; i < ids.length; i += BATCH) {
      for (const inst of await this.describeBy([{ Name: 'instance-id', Values: ids.slice(i, i + BATCH) }])) found.set(inst.instanceId, inst);
    }
    return found;
  }

  /** Every pending or running instance Tangerine launched for a task (by its launch tag): what the sweep checks. */
  async tagged(): Promise<SeenInstance[]> {
    return this.describeBy([{ Name: 'tag-key', Values: [TAG_LAUNCH] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }]);
  }

  /** Terminates one instance; false when EC2 knows no such instance (gone long ago). */
  async terminate(instanceId: string): Promise<boolean> {
    try {
      await this.call('TerminateInstances', () => this.client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'InvalidInstanceID.NotFound') return false;
      throw err;
    }
  }

  close(): void {
    this.client.destroy();
  }

  private async describeBy(Filters: Array<{ Name: string; Values: string[] }>): Promise<SeenInstance[]> {
    const out: SeenInstance[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await this.call('DescribeInstances', () => this.client.send(new DescribeInstancesCommand({ Filters, NextToken: token })));
      for (const inst of (r.Reservations ?? []).flatMap((x) => x.Instances ?? [])) if (inst.InstanceId) out.push(seen(inst));
      token = r.NextToken || undefined;
      if (!token) break;
    }
    return out;
  }

  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw toProviderError(action, err, await secretsInUse(this.client));
    }
  }
}

function seen(inst: Instance): SeenInstance {
  return {
    instanceId: inst.InstanceId!, state: inst.State?.Name ?? 'pending', address: inst.PublicIpAddress ?? null,
    privateAddress: inst.PrivateIpAddress ?? null, dnsName: inst.PublicDnsName || inst.PrivateDnsName || null,
    launchedAt: inst.LaunchTime ?? null, launch: inst.Tags?.find((t) => t.Key === TAG_LAUNCH)?.Value ?? null,
  };
}
