/**
 * EC2 instance metadata (IMDSv2): a session token from `PUT /latest/api/token`, then reads with it in the
 * `X-aws-ec2-metadata-token` header. Only IMDSv2: an instance may require it (HttpTokens=required), and v1 answers
 * 401 there. Each request is bounded in time and in bytes; the endpoint is link-local, but a stranger may stand there.
 */

/** A spot interruption notice, as `/latest/meta-data/spot/instance-action` gives it. */
export interface SpotNotice {
  action: 'terminate' | 'stop' | 'hibernate';
  /** When EC2 takes the instance (ISO 8601, UTC). */
  time: string;
}

export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

/** The token lives 6 h (IMDS takes up to 21600 s); it is asked again 5 min before it ends. */
const TOKEN_TTL_S = 21_600;
const TOKEN_MARGIN_MS = 300_000;
/** IMDS answers in a few ms; 2 s leaves room for a loaded host without holding a poll for long. */
const REQUEST_TIMEOUT_MS = 2000;
/** The longest answer read: an instance id is 19 characters, a notice about 60. */
const MAX_ANSWER = 4096;
const INSTANCE_ID_RE = /^i-[0-9a-f]{8,17}$/;
const ACTIONS = new Set(['terminate', 'stop', 'hibernate']);

export class Ec2Metadata {
  private token: { value: string; until: number } | null = null;

  constructor(private readonly baseUrl: string, private readonly now: () => number = Date.now) {}

  /** This instance's id (`i-…`). */
  async instanceId(): Promise<string> {
    const text = (await this.get('/latest/meta-data/instance-id')) ?? '';
    const id = text.trim();
    if (!INSTANCE_ID_RE.test(id)) throw new MetadataError(`instance metadata gave an instance id that is not one: ${JSON.stringify(id.slice(0, 40))}`);
    return id;
  }

  /** The interruption notice, or null when there is none (IMDS answers 404 until EC2 schedules one). */
  async spotNotice(): Promise<SpotNotice | null> {
    const text = await this.get('/latest/meta-data/spot/instance-action');
    return text === null ? null : parseNotice(text);
  }

  /** GET with the token; null on 404. A 401 means the token expired early (IMDS restarted): asked once more. */
  private async get(path: string, again = true): Promise<string | null> {
    const token = await this.sessionToken();
    const res = await this.request(path, { method: 'GET', headers: { 'X-aws-ec2-metadata-token': token } });
    if (res.status === 404) return null;
    if (res.status === 401 && again) {
      this.token = null;
      return this.get(path, false);
    }
    if (res.status !== 200) throw new MetadataError(`instance metadata ${path} answered HTTP ${res.status}`);
    return res.text;
  }

  private async sessionToken(): Promise<string> {
    if (this.token && this.now() < this.token.until) return this.token.value;
    const res = await this.request('/latest/api/token', { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_S) } });
    if (res.status !== 200 || res.text.length === 0) throw new MetadataError(`instance metadata gave no session token (HTTP ${res.status})`);
    this.token = { value: res.text, until: this.now() + TOKEN_TTL_S * 1000 - TOKEN_MARGIN_MS };
    return res.text;
  }

  private async request(path: string, init: { method: string; headers: Record<string, string> }): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { ...init, redirect: 'error', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (err) {
      throw new MetadataError(`instance metadata at ${this.baseUrl} could not be reached: ${(err as Error).message}`, { cause: err });
    }
    const text = await readBounded(res);
    return { status: res.status, text };
  }
}

/** The notice's JSON, checked: `{"action": "terminate", "time": "2026-12-02T04:00:00Z"}`. */
export function parseNotice(text: string): SpotNotice {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new MetadataError(`the spot instance-action is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as { action?: unknown; time?: unknown };
  if (typeof o.action !== 'string' || !ACTIONS.has(o.action)) {
    throw new MetadataError(`the spot instance-action's action must be terminate, stop or hibernate, got ${JSON.stringify(o.action)}`);
  }
  if (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time)) || o.time.length > 40) {
    throw new MetadataError(`the spot instance-action's time must be an ISO 8601 time, got ${JSON.stringify(o.time)}`);
  }
  return { action: o.action as SpotNotice['action'], time: o.time };
}

/** The body, at most MAX_ANSWER bytes: a longer one is refused, not buffered. */
async function readBounded(res: Response): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_ANSWER) {
    await res.body?.cancel();
    throw new MetadataError(`instance metadata answered ${declared} bytes, more than ${MAX_ANSWER}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > MAX_ANSWER) throw new MetadataError(`instance metadata answered more than ${MAX_ANSWER} bytes`);
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
