/** A small HTTP client for the HTTP API's tests: fetch, with the token and the body as the API takes them. */
export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON, or undefined when it is not. */
  json: unknown;
}

export interface HttpOptions {
  token?: string | null;
  /** An object or list is sent as JSON; a string as it is (with `type`). */
  body?: unknown;
  type?: string;
  headers?: Record<string, string>;
}

export class HttpApi {
  constructor(readonly url: string, readonly token: string | null = null) {}

  async call(method: string, path: string, opts: HttpOptions = {}): Promise<HttpReply> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? this.token : opts.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.type ?? 'application/json';
    }
    const res = await fetch(`${this.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  get(path: string, opts?: HttpOptions): Promise<HttpReply> { return this.call('GET', path, opts); }
  post(path: string, body?: unknown, opts: HttpOptions = {}): Promise<HttpReply> { return this.call('POST', path, { ...opts, ...(body !== undefined ? { body } : {}) }); }
  delete(path: string, opts?: HttpOptions): Promise<HttpReply> { return this.call('DELETE', path, opts); }
}

/** One server-sent event as a test reads it. */
export interface SseEvent { id: string | null; event: string | null; data: string }

/**
 * An open event stream: `next()` gives the events in order; `close()` drops the connection (as a client that goes
 * away mid-stream does).
 */
export class SseStream {
  private buffer = '';
  private readonly queue: SseEvent[] = [];
  private readonly abort = new AbortController();
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | null = null;
  private readonly dec = new TextDecoder();
  status = 0;
  /** Comments seen (`: heartbeat`). */
  comments: string[] = [];

  static async open(url: string, token: string | null, headers: Record<string, string> = {}): Promise<SseStream> {
    const s = new SseStream();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, signal: s.abort.signal });
    s.status = res.status;
    if (res.body) s.reader = res.body.getReader();
    return s;
  }

  async next(timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (!this.reader) throw new Error('the stream has no body');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      // A read that lost the race to the timer is kept for the next call: its chunk must not be dropped.
      this.pending ??= this.reader.read();
      const chunk = await Promise.race([
        this.pending,
        new Promise<null>((r) => { timer = setTimeout(() => r(null), left); }),
      ]);
      clearTimeout(timer);
      if (chunk !== null) this.pending = null;
      if (chunk === null) continue;
      if (chunk.done) throw new Error('the stream ended');
      this.buffer += this.dec.decode(chunk.value, { stream: true });
      this.parse();
    }
    return this.queue.shift()!;
  }

  private parse(): void {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end < 0) return;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const e: SseEvent = { id: null, event: null, data: '' };
      let isEvent = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) { this.comments.push(line.slice(1).trim()); continue; }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') e.id = value;
        else if (field === 'event') e.event = value;
        else if (field === 'data') { e.data += (isEvent && e.data ? '\n' : '') + value; isEvent = true; }
      }
      if (isEvent) this.queue.push(e);
    }
  }

  close(): void {
    this.abort.abort();
  }
}
