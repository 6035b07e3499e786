import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got: when, its headers, its JSON body, and what it answered. */
export interface SlackRequest {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: { text?: string; blocks?: { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { text: string }[] }[] };
  status: number;
}

/** An answer: Slack's are a status, a body of one word (`ok`, `channel_not_found`), and for a 429 its Retry-After. */
export interface SlackAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * A local HTTP receiver that speaks Slack's incoming-webhook protocol: POST a JSON body to its secret path, 200 `ok`;
 * any other path 404 `no_service`, as Slack answers. `answers` are given, in order, before the default 200.
 */
export class SlackReceiver {
  readonly requests: SlackRequest[] = [];
  /** Answers to give first, in order, then 200 `ok`. */
  readonly answers: SlackAnswer[] = [];
  /**
   * Rate-limit as Slack does: a request within this many ms of the last one taken is answered 429 with a Retry-After
   * of the seconds left (rounded up). Null: no limit.
   */
  limitEveryMs: number | null = null;
  private lastTaken = 0;
  private server!: Server;
  url = '';

  constructor(readonly secretPath = `/services/T0TEST/B0TEST/${Math.random().toString(36).slice(2)}XyZ9`) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const now = Date.now();
        const wait = this.limitEveryMs === null ? 0 : this.lastTaken + this.limitEveryMs - now;
        const answer: SlackAnswer = req.method !== 'POST' || req.url !== this.secretPath ? { status: 404, body: 'no_service' }
          : wait > 0 ? { status: 429, body: 'rate_limited', headers: { 'Retry-After': String(Math.ceil(wait / 1000)) } }
            : this.answers.shift() ?? { status: 200, body: 'ok' };
        if (answer.status === 200) this.lastTaken = now;
        let body: SlackRequest['body'] = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SlackRequest['body'];
        } catch {
          answer.status = 400;
          answer.body = 'invalid_payload';
        }
        this.requests.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, body, status: answer.status });
        res.writeHead(answer.status, { 'content-type': 'text/html', ...answer.headers });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.secretPath}`;
    return this;
  }

  /** The requests answered 200: the messages delivered. */
  delivered(): SlackRequest[] {
    return this.requests.filter((r) => r.status === 200);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Every text of a message, its blocks and its fallback, as one string. */
export function messageText(r: SlackRequest): string {
  return JSON.stringify(r.body);
}
