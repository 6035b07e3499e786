import type { Subscription } from '@nats-io/transport-node';
import { hostEventMessage, publishAll } from '@tangerine/bus';
import { Limits, NotFoundError, Subjects, type HostDrained, type HostEvent, type HostList, type HostRequest } from '@tangerine/contracts';
import { setDraining, viewHosts } from '@tangerine/ledger';
import { fitPage, pageSize, replyBudget, respond } from '@tangerine/platform';
import type { ServiceContext } from './config.js';

const QUEUE = 'tangerine-host-health';

/** hosts.list, hosts.drain, hosts.undrain: request/reply, shared by the replicas. */
export function serveHostRequests(ctx: ServiceContext): Subscription[] {
  const drain = (draining: boolean) => async ({ host }: HostRequest): Promise<HostDrained> => {
    const changed = await setDraining(ctx.ledger, host, draining);
    if (!changed) throw new NotFoundError(`host: no host named "${host}"`, { field: 'host' });
    if (changed.from !== changed.state) {
      const event: HostEvent = { host, state: changed.state, from: changed.from, reason: (draining ? Subjects.hostsDrain : Subjects.hostsUndrain).subject, at: ctx.clock.now().toISOString() };
      ctx.log.info({ host, state: changed.state, from: changed.from }, `host ${changed.state}`);
      await publishAll(ctx.bus, [hostEventMessage(event)]);
    }
    return { host, state: changed.state };
  };
  return [
    respond(ctx, Subjects.hostsList, QUEUE, async (req): Promise<HostList> => {
      const limit = pageSize(req.limit, Limits.pageItems);
      const page = fitPage(await viewHosts(ctx.ledger, { ...req, limit }), limit, replyBudget(ctx), (h) => h.host);
      return { hosts: page.items, next: page.next };
    }),
    respond(ctx, Subjects.hostsDrain, QUEUE, drain(true)),
    respond(ctx, Subjects.hostsUndrain, QUEUE, drain(false)),
  ];
}
