import type { Subscription } from '@nats-io/transport-node';
import { publishAll } from '@tangerine/bus';
import { Limits, Subjects, NotFoundError, Validators, type HostEvent, type HostList } from '@tangerine/contracts';
import { setDraining, viewHosts } from '@tangerine/ledger';
import { fitPage, pageSize, replyBudget, respond, type ServiceContext } from '@tangerine/platform';

const QUEUE = 'tangerine-host-health';

/** hosts.list, hosts.drain, hosts.undrain: request/reply, shared by the replicas. */
export function serveHostRequests(ctx: ServiceContext): Subscription[] {
  const drain = (draining: boolean) => async (body: unknown) => {
    const { host } = Validators.hostRequest.parse(body);
    const changed = await setDraining(ctx.ledger, host, draining);
    if (!changed) throw new NotFoundError(`host: no host named "${host}"`, { field: 'host' });
    if (changed.from !== changed.state) {
      const event: HostEvent = { host, state: changed.state, from: changed.from, reason: draining ? 'hosts.drain' : 'hosts.undrain', at: ctx.clock.now().toISOString() };
      ctx.log.info({ host, state: changed.state, from: changed.from }, `host ${changed.state}`);
      await publishAll(ctx.bus, [{ subject: Subjects.hostEvents.make(host, changed.state), data: event, msgId: `host:${host}:${changed.state}:${event.at}` }]);
    }
    return { host, state: changed.state };
  };
  return [
    respond(ctx, Subjects.hostsList.subject, QUEUE, async (body): Promise<HostList> => {
      const req = Validators.hostsList.parse(body ?? {});
      const limit = pageSize(req.limit, Limits.pageItems);
      const page = fitPage(await viewHosts(ctx.ledger, { ...req, limit }), limit, replyBudget(ctx), (h) => h.host);
      return { hosts: page.items, next: page.next };
    }),
    respond(ctx, Subjects.hostsDrain.subject, QUEUE, drain(true)),
    respond(ctx, Subjects.hostsUndrain.subject, QUEUE, drain(false)),
  ];
}
