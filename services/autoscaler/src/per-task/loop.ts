import type { ScalingEvent } from '@tangerine/contracts';
import {
  claimTaskInstance, endTaskInstance, readOpenTaskInstances, readTasksWantingInstance, recordTaskInstance, recordTaskInstanceError,
  type OpenTaskInstance,
} from '@tangerine/ledger';
import { tell } from '../bus.js';
import type { ServiceContext } from '../config.js';
import { ProviderError } from '../provider.js';
import type { TaskInstanceConfig } from './config.js';
import { judge, strays } from './decide.js';
import type { SeenInstance, TaskInstanceEc2 } from './ec2.js';

export const PROVIDER = 'task-instance';

/** Between ticks: each row's launch backoff, and when the sweep last ran. */
export interface PerTaskMemory {
  backoff: Map<string, { failures: number; untilMs: number }>;
  sweptAtMs: number;
}

/**
 * One pass of the leader: claim an instance row for each ready task that wants one (the compare-and-set), then for
 * every open row launch, watch, terminate or end it (decide.ts's `judge`), then, every TASK_INSTANCE_SWEEP, terminate
 * what Tangerine tagged that no open row holds. Each step is safe to redo: a pass killed anywhere is finished by the
 * next one, in this process or another replica.
 */
export async function tick(ctx: ServiceContext, cfg: TaskInstanceConfig, ec2: TaskInstanceEc2, memory: PerTaskMemory): Promise<void> {
  const now = ctx.clock.now();
  let open = await readOpenTaskInstances(ctx.ledger);
  if (open.length < cfg.max) {
    let claimed = 0;
    for (const w of await readTasksWantingInstance(ctx.ledger, cfg.max - open.length)) {
      if (await claimTaskInstance(ctx.ledger, { task: w.name, attempt: w.attempt, instance: w.instance, at: now })) claimed++;
    }
    if (claimed > 0) open = await readOpenTaskInstances(ctx.ledger);
  }
  const ids = open.flatMap((r) => (r.instance_id ? [r.instance_id] : []));
  const seen = ids.length > 0 ? await ec2.describe(ids) : new Map<string, SeenInstance>();
  const events: ScalingEvent[] = [];
  for (const row of open) {
    const view = row.instance_id ? seen.get(row.instance_id) ?? null : null;
    await settle(ctx, cfg, ec2, memory, row, view, events);
  }
  if (now.getTime() - memory.sweptAtMs >= cfg.sweepMs) {
    await sweep(ctx, ec2, events);
    memory.sweptAtMs = now.getTime();
  }
  await tell(ctx, events);
}

async function settle(
  ctx: ServiceContext, cfg: TaskInstanceConfig, ec2: TaskInstanceEc2, memory: PerTaskMemory, row: OpenTaskInstance,
  view: SeenInstance | null, events: ScalingEvent[],
): Promise<void> {
  const now = ctx.clock.now();
  const verdict = judge({ taskState: row.task_state, instanceId: row.instance_id, ec2State: view?.state ?? null });
  const log = { task: row.task, attempt: row.attempt, host: row.host, instance: row.instance_id };
  switch (verdict.action) {
    case 'launch': {
      const off = memory.backoff.get(row.id);
      if (off && now.getTime() < off.untilMs) return;
      try {
        const got = await ec2.launch(row);
        memory.backoff.delete(row.id);
        await recordTaskInstance(ctx.ledger, row.id, got);
        ctx.log.info({ ...log, instance: got.instanceId, type: row.instance_type, spot: row.spot }, `task ${row.task}: launched ${got.instanceId} (${row.instance_type})`);
        events.push(event('launch', now, { host: row.host, instance: got.instanceId, reason: `for task ${row.task} (${row.instance_type}${row.spot ? ', spot' : ''})` }));
      } catch (err) {
        await launchFailed(ctx, cfg, memory, row, err, events);
      }
      return;
    }
    case 'keep':
      if (view && changed(row, view)) await recordTaskInstance(ctx.ledger, row.id, view);
      return;
    case 'terminate': {
      const found = await ec2.terminate(row.instance_id!);
      if (await endTaskInstance(ctx.ledger, row.id, { state: found ? 'shutting-down' : 'terminated', reason: `terminated: ${verdict.reason}`, at: now })) {
        ctx.log.info(log, `task ${row.task}: terminated ${row.instance_id} (${verdict.reason})`);
        events.push(event('terminate', now, { host: row.host, instance: row.instance_id!, reason: verdict.reason }));
      }
      return;
    }
    case 'end':
      if (await endTaskInstance(ctx.ledger, row.id, { state: verdict.state, reason: verdict.reason, at: now })) {
        memory.backoff.delete(row.id);
        ctx.log.info(log, `task ${row.task}: instance record ended (${verdict.reason})`);
      }
  }
}

/** A launch that failed: its code kept on the row (the task's view shows it), told once per failure, backed off. */
async function launchFailed(
  ctx: ServiceContext, cfg: TaskInstanceConfig, memory: PerTaskMemory, row: OpenTaskInstance, err: unknown, events: ScalingEvent[],
): Promise<void> {
  const code = err instanceof ProviderError ? err.code : 'internal';
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
  const failures = (memory.backoff.get(row.id)?.failures ?? 0) + 1;
  const delayMs = Math.min(cfg.backoffMaxMs, cfg.intervalMs * 2 ** (failures - 1));
  memory.backoff.set(row.id, { failures, untilMs: ctx.clock.now().getTime() + delayMs });
  await recordTaskInstanceError(ctx.ledger, row.id, code);
  ctx.log.warn({ task: row.task, attempt: row.attempt, host: row.host, code, failures, retry_in_ms: delayMs }, `task ${row.task}: launch failed (${code}): ${message}; backing off`);
  events.push(event('error', ctx.clock.now(), { host: row.host, code, reason: `launch for task ${row.task}: ${message}`.slice(0, 1000) }));
}

/** Every instance Tangerine tagged that no open row holds is terminated: none is ever left running. */
async function sweep(ctx: ServiceContext, ec2: TaskInstanceEc2, events: ScalingEvent[]): Promise<void> {
  const tagged = await ec2.tagged();
  if (tagged.length === 0) return;
  // Read after EC2 answered: a row opened and launched meanwhile is in it, so its instance is not taken for a stray.
  const open = await readOpenTaskInstances(ctx.ledger);
  const now = ctx.clock.now();
  for (const id of strays(tagged, open.map((r) => ({ id: r.id, instanceId: r.instance_id })))) {
    if (!(await ec2.terminate(id))) continue;
    ctx.log.warn({ instance: id }, `swept ${id}: tagged by Tangerine, held by no open task instance`);
    events.push(event('terminate', now, { instance: id, reason: 'swept: tagged by Tangerine, its task finished or unknown' }));
  }
}

function changed(row: OpenTaskInstance, v: SeenInstance): boolean {
  return row.state !== v.state || (v.address !== null && row.address !== v.address)
    || (v.privateAddress !== null && row.private_address !== v.privateAddress) || (v.dnsName !== null && row.dns_name !== v.dnsName);
}

function event(kind: ScalingEvent['kind'], at: Date, rest: Omit<ScalingEvent, 'provider' | 'kind' | 'at'>): ScalingEvent {
  return { provider: PROVIDER, kind, at: at.toISOString(), ...rest };
}
