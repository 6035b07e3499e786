import {
  DescribeInstancesCommand, DescribeSpotFleetInstancesCommand, DescribeSpotFleetRequestsCommand, EC2Client,
  ModifySpotFleetRequestCommand, TerminateInstancesCommand, type Instance,
} from '@aws-sdk/client-ec2';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { backoff, configError, type Logger } from '@tangerine/runtime';
import { ProviderError, type Provider, type ProviderInstance } from '../provider.js';
import type { SpotFleetConfig } from './spot-fleet-config.js';
import { secretsInUse, toProviderError } from './spot-fleet-errors.js';

export interface SpotFleetOptions {
  fleetId: string;
  /** EC2_SCALE_LIMIT: the target is never set above it. */
  limit: number;
  /** Labels every host of the fleet carries (a task constrained to them counts toward this provider). */
  labels?: Record<string, string>;
  region?: string | null;
  /** An endpoint instead of AWS's (a local fake in the tests); unset, the SDK's own (AWS_ENDPOINT_URL_EC2 or AWS). */
  endpoint?: string;
  /** Tries of one call, the first included. */
  maxAttempts?: number;
  log?: Logger;
}

/** A Spot Fleet cannot go to 0 instances: its minimum. */
const MIN_TARGET = 1;
const INSTANCE_ID_RE = /^i-[0-9a-f]{8,17}$/;
/** Ids per DescribeInstances / TerminateInstances call (EC2 takes up to 1000; a filter value list is capped at 200). */
const BATCH = 200;
/** Pages of DescribeSpotFleetInstances (1000 each) read at most: 50,000 instances, past any EC2_SCALE_LIMIT. */
const MAX_PAGES = 50;
const STATES = new Set<ProviderInstance['state']>(['pending', 'running', 'shutting-down', 'terminated']);

/**
 * An EC2 Spot Fleet request as a provider, with @aws-sdk/client-ec2. Scale-in is two steps, as AWS advises: the
 * target is lowered with ExcessCapacityTerminationPolicy=noTermination (so the fleet picks no victim), and the
 * autoscaler terminates the instances it chose, by id. The SDK's retries are few and bounded (EC2_MAX_ATTEMPTS);
 * past them the error goes to the autoscaler, whose backoff decides.
 */
export class SpotFleetProvider implements Provider {
  readonly name = 'spot-fleet';
  readonly min = MIN_TARGET;
  readonly max: number;
  readonly labels: Record<string, string>;
  private readonly client: EC2Client;
  private readonly fleetId: string;
  private readonly log: Logger | undefined;
  private region: string | null = null;

  constructor(opts: SpotFleetOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < MIN_TARGET) throw new RangeError(`EC2_SCALE_LIMIT must be an integer >= 1, got ${opts.limit}`);
    this.fleetId = opts.fleetId;
    this.max = opts.limit;
    this.labels = { ...opts.labels };
    this.log = opts.log;
    this.client = new EC2Client({
      region: opts.region ?? undefined,
      endpoint: opts.endpoint,
      // The SDK's retries: attempt 1 → 0.2–0.4 s, attempt 2 → 0.4–0.8 s (half-jittered, so a retry always waits).
      retryStrategy: new ConfiguredRetryStrategy(opts.maxAttempts ?? 3, (attempt) => backoff(attempt, 200, 5000)),
      // A hung endpoint fails the call in 10 s instead of holding the evaluation for minutes.
      requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
    });
  }

  async describe(): Promise<{ target: number; instances: ProviderInstance[] }> {
    const target = await this.readTarget();
    const ids = await this.activeIds();
    return { target, instances: await this.describeInstances(ids) };
  }

  /** Sets the fleet's target, clamped to [1, EC2_SCALE_LIMIT]; the instances above a lower target are left running. */
  async setTarget(target: number): Promise<void> {
    if (!Number.isFinite(target)) throw new ProviderError('InvalidTarget', `a Spot Fleet target must be a number, got ${target}`, false);
    const capacity = Math.min(this.max, Math.max(MIN_TARGET, Math.round(target)));
    await this.call('ModifySpotFleetRequest', () => this.client.send(new ModifySpotFleetRequestCommand({
      SpotFleetRequestId: this.fleetId, TargetCapacity: capacity, ExcessCapacityTerminationPolicy: 'noTermination',
    })));
    this.log?.info({ provider: this.name, fleet: this.fleetId, target: capacity, asked: target }, 'spot fleet target set');
  }

  /**
   * Terminates these instances. Only ids that are active in this fleet are sent: an id is what an agent announced
   * (its `instanceId` label), and one that names another machine, or an instance already gone, is skipped and
   * logged, never terminated. Calling it again is harmless.
   */
  async terminate(instanceIds: string[]): Promise<void> {
    const malformed = instanceIds.filter((id) => !INSTANCE_ID_RE.test(id));
    if (malformed.length > 0) {
      throw new ProviderError('InvalidInstanceID.Malformed', `instance ids must match ${INSTANCE_ID_RE.source}, got ${malformed.slice(0, 5).map((id) => JSON.stringify(id.slice(0, 40))).join(', ')}`, false);
    }
    const active = new Set(await this.activeIds());
    const wanted = [...new Set(instanceIds)];
    const mine = wanted.filter((id) => active.has(id));
    const skipped = wanted.filter((id) => !active.has(id));
    if (skipped.length > 0) this.log?.warn({ provider: this.name, fleet: this.fleetId, skipped }, 'not terminated: not active in this spot fleet');
    for (let i = 0; i < mine.length; i += BATCH) {
      const batch = mine.slice(i, i + BATCH);
      await this.call('TerminateInstances', () => this.client.send(new TerminateInstancesCommand({ InstanceIds: batch })));
    }
    if (mine.length > 0) this.log?.info({ provider: this.name, fleet: this.fleetId, instances: mine }, 'spot fleet instances terminated');
  }

  /** Closes the SDK's sockets. */
  async close(): Promise<void> {
    this.client.destroy();
    await Promise.resolve();
  }

  private async readTarget(): Promise<number> {
    const out = await this.call('DescribeSpotFleetRequests', () => this.client.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [this.fleetId] })));
    const config = out.SpotFleetRequestConfigs?.find((c) => c.SpotFleetRequestId === this.fleetId);
    if (!config) throw new ProviderError('InvalidSpotFleetRequestId.NotFound', `EC2 has no Spot Fleet request ${this.fleetId}`, false);
    const state = config.SpotFleetRequestState ?? 'unknown';
    if (state !== 'active' && state !== 'modifying' && state !== 'submitted') {
      throw new ProviderError('SpotFleetNotActive', `Spot Fleet request ${this.fleetId} is ${state}: it cannot be scaled`, false);
    }
    return config.SpotFleetRequestConfig?.TargetCapacity ?? 0;
  }

  /** The ids of the fleet's active (pending or running) instances, every page. */
  private async activeIds(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.call('DescribeSpotFleetInstances', () => this.client.send(new DescribeSpotFleetInstancesCommand({
        SpotFleetRequestId: this.fleetId, MaxResults: 1000, NextToken: token,
      })));
      for (const i of out.ActiveInstances ?? []) if (i.InstanceId) ids.push(i.InstanceId);
      token = out.NextToken || undefined;
      if (!token) break;
    }
    return ids;
  }

  /**
   * Each id's state and launch time. By an `instance-id` filter, not InstanceIds: EC2 is eventually consistent, and
   * an instance launched a moment ago may not be described yet, which InstanceIds answers with an error for the whole
   * call. One not described yet is reported `pending`.
   */
  private async describeInstances(ids: string[]): Promise<ProviderInstance[]> {
    const found = new Map<string, Instance>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await this.call('DescribeInstances', () => this.client.send(new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-id', Values: batch }], NextToken: token,
        })));
        for (const inst of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) if (inst.InstanceId) found.set(inst.InstanceId, inst);
        token = out.NextToken || undefined;
        if (!token) break;
      }
    }
    return ids.map((instanceId) => {
      const inst = found.get(instanceId);
      const state = inst?.State?.Name as ProviderInstance['state'] | undefined;
      return {
        instanceId,
        // stopping/stopped (a spot instance set to stop on interruption) hold no running agent: shutting-down.
        state: state === undefined ? 'pending' : STATES.has(state) ? state : 'shutting-down',
        ...(inst?.LaunchTime ? { launchedAt: inst.LaunchTime } : {}),
      };
    });
  }

  /** One EC2 call, its failure as a ProviderError with the AWS code and a message free of the credentials in use. */
  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    await this.regionKnown();
    const started = Date.now();
    try {
      const out = await send();
      this.log?.debug({ provider: this.name, action, ms: Date.now() - started }, 'ec2 call');
      return out;
    } catch (err) {
      const e = toProviderError(action, err, await secretsInUse(this.client));
      this.log?.debug({ provider: this.name, action, ms: Date.now() - started, code: e.code }, 'ec2 call failed');
      throw e;
    }
  }

  /**
   * The region, from the settings or the AWS profile: without one the SDK fails each call with a bare `Error`, so it
   * is checked first and named (once it is known, the SDK keeps it).
   */
  private async regionKnown(): Promise<void> {
    if (this.region) return;
    try {
      this.region = await this.client.config.region();
    } catch {
      throw new ProviderError('RegionMissing', 'no AWS region: set AWS_REGION or AWS_DEFAULT_REGION (or a region in the AWS profile)', false);
    }
  }
}

/**
 * The provider from its settings (AUTOSCALER_PROVIDER=spot-fleet): SPOT_FLEET_REQUEST_ID is required then. A bad
 * value stops the start with the variable's name and rule.
 */
export function spotFleetFromConfig(cfg: SpotFleetConfig, log?: Logger): SpotFleetProvider {
  if (cfg.spotFleetRequestId === null) throw configError('SPOT_FLEET_REQUEST_ID', 'is required when AUTOSCALER_PROVIDER=spot-fleet: the fleet to scale, sfr-<uuid>');
  return new SpotFleetProvider({
    fleetId: cfg.spotFleetRequestId, limit: cfg.ec2ScaleLimit, labels: { ...cfg.spotFleetLabels },
    region: cfg.awsRegion ?? cfg.awsDefaultRegion, maxAttempts: cfg.ec2MaxAttempts, ...(log ? { log } : {}),
  });
}
