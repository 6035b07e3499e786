import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the metadata server got. */
export interface ImdsRequest {
  method: string;
  path: string;
  /** The session token it carried (`X-aws-ec2-metadata-token`), or null. */
  token: string | null;
  status: number;
}

/**
 * A local HTTP server speaking EC2's instance metadata protocol, IMDSv2 only (as an instance with HttpTokens=required):
 * `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1–21600) gives a token; every GET must carry it
 * in `X-aws-ec2-metadata-token` (else 401). `/latest/meta-data/instance-id` is the instance's id, and
 * `/latest/meta-data/spot/instance-action` answers 404 until `notice` is set, then its JSON, as EC2 does.
 */
export class ImdsServer {
  readonly requests: ImdsRequest[] = [];
  /** The interruption notice to give; null: none (404). */
  notice: { action: string; time: string } | null = null;
  /** A raw answer for instance-action instead of the notice's JSON (a malformed one, a huge one). */
  rawNotice: string | null = null;
  private readonly tokens = new Set<string>();
  private server!: Server;
  url = '';

  constructor(readonly instanceId = `i-${randomBytes(9).toString('hex').slice(0, 17)}`) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const token = typeof req.headers['x-aws-ec2-metadata-token'] === 'string' ? req.headers['x-aws-ec2-metadata-token'] : null;
        const { status, body } = this.answer(req.method ?? '', req.url ?? '', token, req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', token, status });
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Forgets every token given: the next GET with an old one gets 401 (IMDS restarted). */
  expireTokens(): void {
    this.tokens.clear();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(method: string, path: string, token: string | null, ttl: string | string[] | undefined): { status: number; body: string } {
    if (path === '/latest/api/token') {
      const seconds = Number(ttl);
      if (method !== 'PUT') return { status: 405, body: '' };
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 21600) return { status: 400, body: '' };
      const t = randomBytes(32).toString('base64');
      this.tokens.add(t);
      return { status: 200, body: t };
    }
    if (method !== 'GET') return { status: 405, body: '' };
    if (token === null || !this.tokens.has(token)) return { status: 401, body: '' };
    if (path === '/latest/meta-data/instance-id') return { status: 200, body: this.instanceId };
    if (path === '/latest/meta-data/spot/instance-action') {
      if (this.rawNotice !== null) return { status: 200, body: this.rawNotice };
      return this.notice ? { status: 200, body: JSON.stringify(this.notice) } : { status: 404, body: '' };
    }
    return { status: 404, body: '' };
  }
}
