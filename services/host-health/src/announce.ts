import { hostEventMessage, publishAll, type Outgoing } from '@tangerine/bus';
import type { HostEvent, HostState, TaskEvent } from '@tangerine/contracts';
import { publishEvents, type ServiceContext } from '@tangerine/platform';

export function hostEvent(ctx: ServiceContext, host: string, state: HostEvent['state'], from: HostState | null, reason: string): HostEvent {
  return { host, state, from, reason, at: ctx.clock.now().toISOString() };
}

/** Logs and publishes host events, task events and any other messages of one step, together. */
export async function announce(ctx: ServiceContext, hosts: HostEvent[], tasks: TaskEvent[], others: Outgoing[]): Promise<void> {
  for (const h of hosts) {
    const line = { host: h.host, state: h.state, from: h.from, reason: h.reason };
    if (h.state === 'down' || h.state === 'removed') ctx.log.warn(line, `host ${h.state}`);
    else ctx.log.info(line, `host ${h.state}`);
  }
  for (const e of tasks) ctx.log.warn({ task: e.name, attempt: e.attempt, host: e.host, state: e.state, reason: e.reason }, `task ${e.state}`);
  const hostMessages: Outgoing[] = hosts.map(hostEventMessage);
  if (tasks.length > 0) await publishEvents(ctx, tasks, [...others, ...hostMessages]);
  else if (others.length + hostMessages.length > 0) await publishAll(ctx.bus, [...others, ...hostMessages]);
}

