import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** A ledger that does not answer this fast is not reachable, as far as a health check can tell. */
const LEDGER_CHECK_MS = 2000;

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unhealthy')]),
  checks: Type.Record(Type.String(), Type.Boolean()),
});

async function ledgerAnswers(deps: HttpDeps): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      deps.ledger.query('SELECT 1').then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), LEDGER_CHECK_MS); }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Health and metrics: open to anyone who reaches the port (as the health port is), for probes and scrapers. */
export function healthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/v1/health', {
    config: { access: 'open' },
    schema: { summary: 'NATS connected and the ledger reachable: 200, else 503', tags: ['health'], security: [], response: { 200: Health, 503: Health } },
  }, async (_req, reply) => {
    const checks = { nats: !deps.client.nc.isClosed(), ledger: await ledgerAnswers(deps) };
    const ok = checks.nats && checks.ledger;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unhealthy', checks });
  });

  app.get('/healthz', {
    config: { access: 'open' },
    schema: { summary: 'The process\'s own checks, as its health port serves them', tags: ['health'], security: [], response: { 200: Health, 503: Health } },
  }, async (_req, reply) => {
    const checks = Object.fromEntries(Object.entries(deps.health).map(([k, check]) => [k, check()]));
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unhealthy', checks });
  });

  app.get('/metrics', {
    config: { access: 'open' },
    schema: { summary: 'The process\'s metrics, as Prometheus text', tags: ['health'], security: [], produces: ['text/plain'] },
  }, async (_req, reply) => {
    return reply.type(deps.metrics.contentType).send(await deps.metrics.render());
  });

  app.get('/v1/openapi.json', {
    config: { access: 'open' },
    schema: { summary: 'This document', tags: ['health'], security: [] },
  }, async () => app.swagger());
}
