import http from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

export type HealthCheck = () => boolean;

/** GET /healthz (200 when every check passes, else 503) and GET /metrics. */
export function serveHealth(opts: {
  port: number; service: string; log: Logger; metrics: Metrics; checks: Record<string, HealthCheck>;
}): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      const results = Object.fromEntries(Object.entries(opts.checks).map(([k, check]) => [k, check()]));
      const ok = Object.values(results).every(Boolean);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: opts.service, status: ok ? 'ok' : 'unhealthy', checks: results }));
    } else if (req.url === '/metrics') {
      opts.metrics.render().then((text) => {
        res.writeHead(200, { 'content-type': opts.metrics.contentType });
        res.end(text);
      }, (err: unknown) => {
        opts.log.warn({ err }, 'metrics could not be read');
        res.writeHead(500).end();
      });
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '0.0.0.0', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : opts.port;
      opts.log.info({ port }, 'health endpoint listening');
      resolve({ port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
