import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The Link header of a page that has a next one (RFC 8288): the same URL with the cursor parameter set to `next`,
 * every other parameter kept. The body's `next` says the same, for a client that reads no headers.
 */
export function linkNext(req: FastifyRequest, reply: FastifyReply, param: string, next: string | number | null): void {
  if (next === null) return;
  const url = new URL(req.url, 'http://x');
  url.searchParams.set(param, String(next));
  void reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
}
