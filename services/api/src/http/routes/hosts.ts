import { HostDrained, HostList, HostsListRequest } from '@tangerine/contracts';
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';
import { linkNext } from '../paging.js';
import { HostParams, failures } from './schemas.js';

/** Hosts are host-health's: read and drained through its NATS requests. */
export function hostRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/v1/hosts', {
    config: { access: 'read' },
    schema: {
      summary: 'A page of hosts by id; `next` (and the Link header) gives the following page', tags: ['hosts'],
      querystring: HostsListRequest, response: { 200: HostList, ...failures(400, 401, 503) },
    },
  }, async (req, reply) => {
    const page = await deps.client.hosts(req.query as HostsListRequest);
    linkNext(req, reply, 'after', page.next);
    return page;
  });

  for (const [action, what] of [['drain', 'The placer gives a draining host nothing new; its runs go on'], ['undrain', 'The host takes new runs again']] as const) {
    app.post(`/v1/hosts/:id/${action}`, {
      config: { access: 'write' },
      schema: { summary: what, tags: ['hosts'], params: HostParams, response: { 200: HostDrained, ...failures(400, 401, 403, 404, 503) } },
    }, async (req) => {
      const { id } = req.params as { id: string };
      const result = action === 'drain' ? await deps.client.drain(id) : await deps.client.undrain(id);
      req.log.info({ host: id, state: result.state, caller: req.caller }, `host ${action} asked`);
      return result;
    });
  }
}
