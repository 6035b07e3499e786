import { TangerineClient } from '@tangerine/client';
import { replyBudget } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';
import type { ServiceContext } from '../config.js';
import { buildHttp } from './app.js';
import { StateLookups } from './state-lookups.js';
import { SubmitWindow } from './submit-window.js';

/** Starts the HTTP API on API_HOST:API_PORT (0: a free port, logged) over the service's connections. */
export async function startHttp(ctx: ServiceContext): Promise<Stop> {
  const c = ctx.config;
  const client = TangerineClient.wrap(ctx.bus.nc);
  const app = await buildHttp({
    ledger: ctx.ledger, states: new StateLookups(ctx.ledger), submissions: new SubmitWindow(client, replyBudget(ctx)), client, log: ctx.log, metrics: ctx.metrics, health: ctx.health, pageBudget: () => replyBudget(ctx),
    settings: {
      tokens: c.apiAuth === 'off' ? null : c.apiTokens, readOpen: c.apiReadOpen, bodyLimit: c.apiBodyLimit, maxStreams: c.apiMaxStreams,
      heartbeatMs: c.apiHeartbeatMs, filesMaxBytes: c.filesMaxBytes, filesMaxTotal: c.filesMaxTotal,
    },
  });
  await app.listen({ port: c.apiPort, host: c.apiHost, listenTextResolver: (address) => `http server bound to ${address}` });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : c.apiPort;
  ctx.log.info({
    port, host: c.apiHost, auth: c.apiAuth === 'off' ? 'off' : c.apiTokens?.toJSON(), read_open: c.apiReadOpen,
  }, 'http listening');
  if (c.apiAuth === 'off') ctx.log.warn({ port }, 'the HTTP API takes requests without a token (API_AUTH=off)');
  return async () => {
    await app.close();
    await client.close();
  };
}
