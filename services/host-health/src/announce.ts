import { hostEventMessage, type Outgoing } from '@tangerine/bus';
import type { HostEvent, HostState, TaskEvent } from '@tangerine/contracts';
import { announce as announceTasks } from '@tangerine/platform';
import type { ServiceContext } from './config.js';

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
  const hostMessages: Outgoing[] = hosts.map(hostEventMessage);
  // Every task change here comes from a host lost or a run lost: worth a warning, whatever the task's new state.
  await announceTasks(ctx, tasks, [...others, ...hostMessages], () => 'warn');
}

