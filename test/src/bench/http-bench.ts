// Part (6) of `npm run bench`: the HTTP API (services/api) beside NATS. Submissions one spec per request from many
// clients against the same specs published through JetStream in the same run; a page of the task list at a large
// ledger; the event stream's delivery to many subscribers while events flow.
import http from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { freePort } from '../helpers/nats.js';
import { machineBusySeconds, percentile, startStack, waitFor, type BenchStack } from './stack.js';

export interface HttpBenchSizes {
  /** Specs submitted each way (HTTP, then JetStream). */
  submissions: number;
  clients: number;
  /** Tasks in the ledger when the list is timed. */
  listTasks: number;
  listSamples: number;
  subscribers: number;
  eventsPerSecond: number;
  eventSeconds: number;
}

export interface HttpBenchRun {
  sizes: HttpBenchSizes;
  /** Specs accepted by intake per second, submitted by POST /v1/tasks, `clients` requests in flight. */
  httpPerSecond: number;
  /** POST /v1/tasks answered 202 (stored), per second. */
  httpRequestsPerSecond: number;
  /** Specs accepted by intake per second, published on tasks.submit as `nats pub` does, from `clients` senders. */
  natsPerSecond: number;
  /** CPU ms per spec of each process while the HTTP side ran, and while the NATS side did (`machine`: all cores). */
  httpCpuMsPerSpec: CpuPerSpec;
  natsCpuMsPerSpec: CpuPerSpec;
  listP50Ms: number;
  listP99Ms: number;
  /** Publish → received by a subscriber of GET /v1/events, over every subscriber and event. */
  eventP50Ms: number;
  eventP99Ms: number;
  eventsDelivered: number;
  eventsExpected: number;
}

const TOKEN = 'bench-token-0123456789abcdef';
const enc = new TextEncoder();

async function withApi<T>(services: Parameters<typeof startStack>[0]['services'], run: (stack: BenchStack, base: string) => Promise<T>): Promise<T> {
  const port = await freePort();
  const stack = await startStack({ agents: [], services, env: { API_PORT: String(port), API_TOKENS: `${TOKEN} write bench` } });
  try {
    return await run(stack, `http://127.0.0.1:${port}`);
  } finally {
    await stack.stop();
  }
}

const auth = { authorization: `Bearer ${TOKEN}` };

/** `count` jobs through `clients` workers, each taking the next index; seconds from the first to the last. */
async function timed(count: number, clients: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = next++; i < count; i = next++) await job(i);
  }));
  return (performance.now() - start) / 1000;
}

/**
 * The same specs two ways, each from `clients` senders: POST /v1/tasks (one spec a request, answered 202 once stored),
 * and a core publish on tasks.submit as `nats pub` sends it. Each side's figure is end to end: from its first send to
 * intake's acceptance of its last spec (the task's first event). The HTTP side's request rate is given beside it.
 */
/** CPU milliseconds per spec of each process (and the machine, PostgreSQL included) over one side of the run. */
export type CpuPerSpec = Record<string, number>;

function cpuMeter(stack: BenchStack): (specs: number) => CpuPerSpec {
  // The bench's own process alone (cpuSeconds counts descendants: the services).
  const own = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const read = (): Record<string, number> => ({ ...stack.cpu(), 'bench client': own(), machine: machineBusySeconds() });
  const before = read();
  return (specs) => {
    const now = read();
    return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) * 1e6) / specs) / 1000]));
  };
}

async function submissions(stack: BenchStack, base: string, s: HttpBenchSizes): Promise<{ http: number; requests: number; nats: number; httpCpu: CpuPerSpec; natsCpu: CpuPerSpec }> {
  const spec = (prefix: string, i: number) => JSON.stringify({ name: `${prefix}-${i}`, executor: 'process', command: ['true'] });
  const accepted = new Map<string, number>();
  const sub = stack.nc.subscribe('tasks.events.*.ready', {
    callback: (_e, m) => { const name = m.subject.split('.')[2]!; accepted.set(name[0]!, (accepted.get(name[0]!) ?? 0) + 1); },
  });
  await stack.nc.flush();
  const until = async (prefix: string, start: number): Promise<number> => {
    if (!(await waitFor(() => (accepted.get(prefix) ?? 0) >= s.submissions, 300_000))) throw new Error(`http bench: ${accepted.get(prefix) ?? 0} of ${s.submissions} "${prefix}" specs accepted`);
    return s.submissions / ((performance.now() - start) / 1000);
  };
  // The load generator is node:http on keep-alive connections, one per client, as curl, ab or wrk would hold them:
  // fetch (undici) cost the bench 2.3 ms of CPU a request on this 2-core machine, shared with the api it measures
  // (a bare Fastify route: 450 requests/s by fetch, 3,100 by node:http). A warm-up first, uncounted.
  const agent = new http.Agent({ keepAlive: true, maxSockets: s.clients });
  const post = (body: string): Promise<void> => postJson(agent, `${base}/v1/tasks`, body);
  await timed(Math.min(200, s.submissions), s.clients, (i) => post(spec('w', i)));
  const httpStart = performance.now();
  const httpMeter = cpuMeter(stack);
  const requestSeconds = await timed(s.submissions, s.clients, (i) => post(spec('h', i)));
  agent.destroy();
  const viaHttp = await until('h', httpStart);
  const httpCpu = httpMeter(s.submissions);
  const natsStart = performance.now();
  const natsMeter = cpuMeter(stack);
  await timed(s.submissions, s.clients, async (i) => {
    stack.nc.publish('tasks.submit', enc.encode(spec('n', i)));
    if (i % 100 === 99) await stack.nc.flush();
  });
  await stack.nc.flush();
  const nats = await until('n', natsStart);
  const natsCpu = natsMeter(s.submissions);
  sub.unsubscribe();
  return { http: viaHttp, requests: s.submissions / requestSeconds, nats, httpCpu, natsCpu };
}

/** POST of a JSON body through `agent`; anything but 202 fails the bench with the answer. */
function postJson(agent: http.Agent, url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent, headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`POST /v1/tasks: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Fills the ledger to `total` tasks (lists of 1,000 through intake), then times pages of 100 at random cursors. */
async function listing(stack: BenchStack, base: string, s: HttpBenchSizes): Promise<number[]> {
  const js = jetstream(stack.nc);
  const name = (i: number) => `l-${String(i).padStart(7, '0')}`;
  for (let i = 0; i < s.listTasks; i += 1000) {
    const list = Array.from({ length: Math.min(1000, s.listTasks - i) }, (_, k) => ({ name: name(i + k), executor: 'process', command: ['true'] }));
    await js.publish('tasks.submit', enc.encode(JSON.stringify(list)));
  }
  const pageOf = async (after: string | null) => {
    const res = await fetch(`${base}/v1/tasks?limit=100&prefix=l-${after ? `&after=${after}` : ''}`, { headers: auth });
    if (!res.ok) throw new Error(`GET /v1/tasks: ${res.status}`);
    return (await res.json()) as { tasks: unknown[] };
  };
  // Every task in: intake takes the lists in order, so the ledger is full once the last page is.
  const deadline = Date.now() + 600_000;
  while ((await pageOf(name(s.listTasks - 101))).tasks.length < 100) {
    if (Date.now() > deadline) throw new Error('http bench: the ledger did not fill');
    await new Promise((r) => setTimeout(r, 500));
  }
  const times: number[] = [];
  for (let k = 0; k < s.listSamples; k++) {
    const after = k % 10 === 0 ? null : name(Math.floor(Math.random() * (s.listTasks - 100)));
    const start = performance.now();
    await pageOf(after);
    times.push(performance.now() - start);
  }
  return times;
}

/** `subscribers` readers of GET /v1/events; events published at `eventsPerSecond`; each delivery's latency. */
async function streaming(stack: BenchStack, base: string, s: HttpBenchSizes): Promise<{ latencies: number[]; expected: number }> {
  const latencies: number[] = [];
  const controllers: AbortController[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < s.subscribers; i++) {
    const ac = new AbortController();
    controllers.push(ac);
    ready.push(readEvents(`${base}/v1/events?kinds=task`, ac.signal, (at) => latencies.push(Date.now() - at)));
  }
  await Promise.all(ready);
  const total = s.eventsPerSecond * s.eventSeconds;
  const perTick = Math.max(1, Math.round(s.eventsPerSecond / 100));
  const start = Date.now();
  for (let sent = 0; sent < total;) {
    for (let k = 0; k < perTick && sent < total; k++, sent++) {
      const event = { name: `ev-${sent}`, state: 'ready', from: null, attempt: 0, failures: 0, version: 1, host: null, reason: null, exit_code: null, at: new Date().toISOString() };
      stack.nc.publish(`tasks.events.ev-${sent}.ready`, enc.encode(JSON.stringify(event)));
    }
    const due = start + (sent / s.eventsPerSecond) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
  const expected = total * s.subscribers;
  await waitFor(() => latencies.length >= expected, 30_000);
  for (const ac of controllers) ac.abort();
  return { latencies, expected };
}

/** Reads a server-sent event stream, calling `onEvent` with each event's `at`; resolves once the stream is open. */
async function readEvents(url: string, signal: AbortSignal, onEvent: (at: number) => void): Promise<void> {
  const res = await fetch(url, { headers: { ...auth, accept: 'text/event-stream' }, signal });
  if (!res.ok || !res.body) throw new Error(`GET /v1/events: ${res.status}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += dec.decode(value, { stream: true });
        // Frames are cut with an index, not by slicing the rest after each one (a chunk holds hundreds of them), and
        // only `at` is read: the reader must not be what the latency measures.
        let from = 0;
        for (let end = buffer.indexOf('\n\n', from); end >= 0; end = buffer.indexOf('\n\n', from)) {
          const at = buffer.indexOf('"at":"', from);
          if (at >= 0 && at < end) onEvent(Date.parse(buffer.slice(at + 6, buffer.indexOf('"', at + 6))));
          from = end + 2;
        }
        buffer = buffer.slice(from);
      }
    } catch {
      // Aborted at the end of the run.
    }
  })();
}

/** Only the submissions, both ways (a probe for the submission path: test/src/bench/submit-probe.ts). */
export async function runSubmissionsOnly(s: Pick<HttpBenchSizes, 'submissions' | 'clients'>): Promise<Awaited<ReturnType<typeof submissions>> & { ratio: number; statementsPerSpec: number }> {
  const sizes: HttpBenchSizes = { ...s, listTasks: 0, listSamples: 0, subscribers: 0, eventsPerSecond: 0, eventSeconds: 0 };
  const r = await withApi(['intake', 'api'], async (stack, base) => {
    const before = await stack.statements();
    const out = await submissions(stack, base, sizes);
    // Ledger statements of intake and the api together, per spec of both sides (the warm-up's included).
    return { ...out, statementsPerSpec: ((await stack.statements()) - before) / (sizes.submissions * 2 + Math.min(200, sizes.submissions)) };
  });
  return { ...r, ratio: r.http / r.nats };
}

export async function runHttpBench(s: HttpBenchSizes): Promise<HttpBenchRun> {
  const submitted = await withApi(['intake', 'api'], async (stack, base) => ({
    rates: await submissions(stack, base, s), list: await listing(stack, base, s),
  }));
  const events = await withApi(['api'], (stack, base) => streaming(stack, base, s));
  return {
    sizes: s, httpPerSecond: submitted.rates.http, httpRequestsPerSecond: submitted.rates.requests, natsPerSecond: submitted.rates.nats,
    httpCpuMsPerSpec: submitted.rates.httpCpu, natsCpuMsPerSpec: submitted.rates.natsCpu,
    listP50Ms: percentile(submitted.list, 50), listP99Ms: percentile(submitted.list, 99),
    eventP50Ms: percentile(events.latencies, 50), eventP99Ms: percentile(events.latencies, 99),
    eventsDelivered: events.latencies.length, eventsExpected: events.expected,
  };
}
