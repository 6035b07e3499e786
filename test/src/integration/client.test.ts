import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import {
  ConnectionClosedError, InvalidReplyError, InvalidRequestError, NoRespondersError, RequestTimeoutError, ServerError, TangerineClient,
  WaitTimeoutError, type Watch, type WatchEvent,
} from '@tangerine/client';
import { Subjects } from '@tangerine/contracts';
import { Cluster } from '../helpers/cluster.js';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { ROOT } from '../helpers/processes.js';

/** libs/client against a real NATS and the real services, each call as a user makes it. */
const OPERATOR = { kind: 'operator' } as const;

describe('libs/client', () => {
  const cluster = new Cluster('client');
  let client: TangerineClient;
  const quick = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ name, executor: 'process', command: ['sh', '-c', `echo out-of-${name}`], ...extra });

  before(async () => {
    await cluster.start({ agents: [{ host: 'cl-a', executors: 'process' }, { host: 'cl-b', executors: 'process' }] });
    // As an operator (a submitter that may drain): what the client does, it does with a user's permissions.
    client = await TangerineClient.connect({ servers: cluster.nats.url, requestTimeoutMs: 5000, ...cluster.identities!.options(OPERATOR) });
  });
  after(async () => {
    await client?.close();
    await cluster.stop();
  });

  it('submits a spec, returns once stored, and waits for its first state', async () => {
    const stored = await client.submit(quick('first'), { wait: true, msgId: 'first-1' });
    assert.equal(stored.stream, 'TANGERINE_COMMANDS');
    assert.ok(stored.seq >= 1);
    assert.equal(stored.duplicate, false);
    assert.equal(stored.outcome?.event?.name, 'first');
    assert.equal(stored.outcome?.event?.from, null);
    assert.equal(stored.outcome?.event?.state, 'ready');
    // The same msg id again is stored once.
    const again = await client.submit(quick('first'), { msgId: 'first-1' });
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, stored.seq);
  });

  it('refuses to wait on a list of specs', async () => {
    const err = await client.submit([quick('l-1'), quick('l-2')], { wait: true }).then(() => assert.fail('stored'), (e: unknown) => e);
    assert.ok(err instanceof InvalidRequestError, String(err));
    assert.equal(err.field, 'spec');
  });

  it('gives the rejection of a bad spec with its code and field', async () => {
    const stored = await client.submit({ name: 'bad', executor: 'process', command: ['true'], max_retries: -1 }, { wait: true });
    assert.equal(stored.outcome?.rejected?.seq, stored.seq);
    assert.equal(stored.outcome?.rejected?.code, 'invalid_spec');
    assert.equal(stored.outcome?.rejected?.field, 'max_retries');
  });

  it('gets a task, its runs and its whole output', async () => {
    await client.submit(quick('out'));
    const done = await client.waitForState('out', 'success', { timeoutMs: 20_000 });
    assert.equal(done.runs?.[0]?.exit_code, 0);
    const view = await client.get('out');
    assert.equal(view.state, 'success');
    const runs = await client.runs('out');
    assert.equal(runs.name, 'out');
    assert.equal(runs.runs.length, 1);
    assert.equal(runs.next, null);
    const output = await client.output('out', 1);
    assert.match(output.output, /out-of-out/);
  });

  it('turns an error reply into a ServerError with the code, field and message', async () => {
    const err = await client.get('no-such-task').then(() => assert.fail('got a task'), (e: unknown) => e);
    assert.ok(err instanceof ServerError, String(err));
    assert.equal(err.code, 'not_found');
    assert.equal(err.field, 'name');
    assert.match(err.message, /no-such-task/);
    const missingRun = await client.output('out', 9).then(() => assert.fail('got a run'), (e: unknown) => e);
    assert.ok(missingRun instanceof ServerError);
    assert.equal(missingRun.field, 'attempt');
  });

  it('refuses a bad request before sending it, naming the field', async () => {
    const err = await client.list({ limit: 0 }).then(() => assert.fail('listed'), (e: unknown) => e);
    assert.ok(err instanceof InvalidRequestError, String(err));
    assert.equal(err.field, 'limit');
  });

  it('lists by prefix and state, a page at a time, and over every page', async () => {
    // Scheduled far ahead, so they stay put while the pages are read.
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const names = Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
    for (const name of names) await client.submit(quick(name, { schedule_at: at }));
    await client.waitForState(names[names.length - 1]!, 'scheduled');
    await Promise.all(names.map((n) => client.waitForState(n, 'scheduled')));
    const first = await client.list({ prefix: 'page-', limit: 10 });
    assert.deepEqual(first.tasks.map((t) => t.name), names.slice(0, 10));
    assert.equal(first.next, names[9]);
    const second = await client.list({ prefix: 'page-', limit: 10, after: first.next! });
    assert.deepEqual(second.tasks.map((t) => t.name), names.slice(10, 20));
    const seen: string[] = [];
    for await (const t of client.listAll({ prefix: 'page-', state: 'scheduled', limit: 7 })) seen.push(t.name);
    assert.deepEqual(seen, names);
    const none = await client.list({ prefix: 'page-', state: 'running' });
    assert.deepEqual(none, { tasks: [], next: null });
  });

  it('cancels a task and waits for its cancelled event; a cancel of nothing is rejected', async () => {
    await client.submit(quick('to-cancel', { schedule_at: new Date(Date.now() + 3_600_000).toISOString() }));
    await client.waitForState('to-cancel', 'scheduled');
    const cancelled = await client.cancel('to-cancel', { wait: true });
    assert.equal(cancelled.outcome?.event?.state, 'cancelled');
    assert.equal((await client.get('to-cancel')).state, 'cancelled');
    const refused = await client.cancel('never-was', { wait: true });
    assert.equal(refused.outcome?.rejected?.code, 'not_found');
    assert.equal(refused.outcome?.rejected?.seq, refused.seq);
  });

  it('lists hosts a page at a time, and drains and undrains one', async () => {
    const page = await client.hosts({ limit: 1 });
    assert.equal(page.hosts.length, 1);
    assert.equal(page.hosts[0]?.host, 'cl-a');
    assert.equal(page.next, 'cl-a');
    const all: string[] = [];
    for await (const h of client.hostsAll({ limit: 1 })) all.push(h.host);
    assert.deepEqual(all, ['cl-a', 'cl-b']);
    const from = await client.lastSeq();
    assert.deepEqual(await client.drain('cl-b'), { host: 'cl-b', state: 'draining' });
    assert.equal((await client.hosts({ state: 'draining' })).hosts.map((h) => h.host).join(), 'cl-b');
    assert.deepEqual(await client.undrain('cl-b'), { host: 'cl-b', state: 'up' });
    // Both changes are host events in the stream.
    const watch = await client.watch({ kinds: ['host'], from: from + 1 });
    const states = (await take(watch, 2)).map((e) => (e.kind === 'host' ? `${e.event.host}:${e.event.state}` : e.kind));
    watch.stop();
    assert.deepEqual(states, ['cl-b:draining', 'cl-b:up']);
    const unknown = await client.drain('nobody').then(() => assert.fail('drained'), (e: unknown) => e);
    assert.ok(unknown instanceof ServerError);
    assert.equal(unknown.code, 'not_found');
  });

  it('watches one task’s events in order, from now', async () => {
    const watch = await client.watch({ name: 'watched' });
    const live = client.live({ name: 'watched' });
    await client.nc.flush();
    await client.submit(quick('watched'));
    const success = (e: WatchEvent): boolean => e.kind === 'task' && e.event.state === 'success';
    const events = await takeUntil(watch, success);
    const states = (list: WatchEvent[]): string[] => list.map((e) => (e.kind === 'task' ? e.event.state : e.kind));
    assert.deepEqual(states(events), ['ready', 'placed', 'running', 'success']);
    assert.ok(events.every((e) => e.subject.startsWith('tasks.events.watched.') && e.seq !== null));
    // The live watch (core NATS) sees the same events, without stream positions.
    const seen = await takeUntil(live, success);
    live.stop();
    watch.stop();
    assert.deepEqual(seen.map((e) => e.event), events.map((e) => e.event));
    assert.ok(seen.every((e) => e.seq === null));
  });

  it('resumes a watch from a stream sequence and misses nothing', async () => {
    const start = (await client.lastSeq()) + 1;
    const whole = await client.watch({ kinds: ['task'], from: start });
    const firstPart = await client.watch({ kinds: ['task'], from: start });
    const names = ['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
    for (const n of names) await client.submit(quick(n));
    // Stop a watch part way, while the tasks still run, and pick up after its last event.
    const head = await take(firstPart, 5);
    firstPart.stop();
    assert.equal(firstPart.lastSeq, head[4]!.seq);
    const rest = await client.watch({ kinds: ['task'], from: firstPart.lastSeq! + 1 });
    const done = new Set<string>();
    const all = await takeUntil(whole, (e) => {
      if (e.kind === 'task' && e.event.state === 'success') done.add(e.event.name);
      return names.every((n) => done.has(n));
    });
    const tail = await takeUntil(rest, (e) => e.seq === all[all.length - 1]!.seq);
    const oldest = await client.watch({ kinds: ['task'], from: 'first' });
    const [firstEver] = await take(oldest, 1);
    oldest.stop();
    assert.ok(firstEver!.seq! < start, `the first event kept, ${firstEver!.seq}, is before ${start}`);
    whole.stop();
    rest.stop();
    assert.ok(all.length >= names.length * 4, `${all.length} events`);
    assert.deepEqual([...head, ...tail].map((e) => e.seq), all.map((e) => e.seq));
    assert.deepEqual([...head, ...tail], all);
  });

  it('waitFor returns once the condition holds and times out with what it saw last', async () => {
    await client.submit(quick('wait-me'));
    const t = await client.waitFor('wait-me', (v) => v.state === 'success' && v.runs?.length === 1, { timeoutMs: 20_000 });
    assert.equal(t.runs?.[0]?.exit_code, 0);
    const err = await client.waitForState('wait-me', 'failed', { timeoutMs: 300 }).then(() => assert.fail('failed?'), (e: unknown) => e);
    assert.ok(err instanceof WaitTimeoutError, String(err));
    assert.equal((err.last as { state?: string }).state, 'success');
  });

  it('ends every watch still open when the client closes', async () => {
    const other = await TangerineClient.connect({ servers: cluster.nats.url, ...cluster.identities!.options(OPERATOR) });
    const watch = await other.watch();
    const live = other.live();
    await other.close();
    const ended = await Promise.race([
      Promise.all([watch[Symbol.asyncIterator]().next(), live[Symbol.asyncIterator]().next()]),
      new Promise<'open'>((r) => setTimeout(() => r('open'), 5000).unref()),
    ]);
    assert.notEqual(ended, 'open', 'a watch is still open');
    assert.deepEqual(ended !== 'open' && ended.map((x) => x.done), [true, true]);
  });

  describe('against something else answering', () => {
    let other: NatsServer;
    let rogue: Awaited<ReturnType<typeof connect>>;
    let stray: TangerineClient;
    before(async () => {
      other = await startNats();
      rogue = await connect({ servers: other.url });
      // A server of another version, or something else altogether, on the request subjects.
      rogue.subscribe(Subjects.get.subject, { callback: (_e, m) => { m.respond(JSON.stringify({ name: 'x', state: 'sleeping' })); } });
      rogue.subscribe(Subjects.list.subject, { callback: (_e, m) => { m.respond('not json'); } });
      rogue.subscribe(Subjects.runs.subject, { callback: () => undefined });
      await rogue.flush();
      stray = await TangerineClient.connect({ servers: other.url, requestTimeoutMs: 300 });
    });
    after(async () => {
      await stray?.close();
      await rogue?.drain();
      await other?.stop();
    });

    it('refuses a reply that breaks its schema, naming the field', async () => {
      const err = await stray.get('x').then(() => assert.fail('accepted'), (e: unknown) => e);
      assert.ok(err instanceof InvalidReplyError, String(err));
      assert.equal(err.subject, Subjects.get.subject);
      assert.ok(['state', 'failures'].includes(err.field), err.field);
      const notJson = await stray.list().then(() => assert.fail('accepted'), (e: unknown) => e);
      assert.ok(notJson instanceof InvalidReplyError);
      assert.equal(notJson.field, 'reply');
    });

    it('says when no reply came in time, and when nothing answers', async () => {
      const started = Date.now();
      const err = await stray.runs('x').then(() => assert.fail('answered'), (e: unknown) => e);
      assert.ok(err instanceof RequestTimeoutError, String(err));
      assert.equal(err.timeoutMs, 300);
      assert.ok(Date.now() - started < 3000);
      const none = await stray.output('x', 1).then(() => assert.fail('answered'), (e: unknown) => e);
      assert.ok(none instanceof NoRespondersError, String(none));
    });

    it('says the connection is closed after close()', async () => {
      const c = await TangerineClient.connect({ servers: other.url });
      await c.close();
      const err = await c.get('x').then(() => assert.fail('answered'), (e: unknown) => e);
      assert.ok(err instanceof ConnectionClosedError, String(err));
    });
  });

  it('runs the README example as written', () => {
    const readme = readFileSync(path.join(ROOT, 'libs/client/README.md'), 'utf8');
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'the README has a js example');
    // Inside the repository, so that `@tangerine/client` resolves as it does for a workspace.
    const dir = mkdtempSync(path.join(ROOT, 'test', 'dist', 'readme-example-'));
    try {
      const file = path.join(dir, 'example.mjs');
      writeFileSync(file, example);
      const out = execFileSync(process.execPath, [file], { env: { ...process.env, NATS_URL: cluster.nats.url, ...cluster.identities!.env({ kind: 'submitter' }) }, timeout: 30_000, encoding: 'utf8' });
      assert.match(out, /hello: success/);
      assert.match(out, /hello, from a process/);
      assert.match(out, /hello, from a file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function take(watch: Watch, n: number, timeoutMs = 20_000): Promise<WatchEvent[]> {
  let count = 0;
  return takeUntil(watch, () => ++count >= n, timeoutMs);
}

/** Events of a watch up to and with the first for which `last` holds; fails at the deadline. */
async function takeUntil(watch: Watch, last: (e: WatchEvent) => boolean, timeoutMs = 20_000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const it = watch[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      it.next(),
      new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())); }),
    ]);
    clearTimeout(timer);
    if (next === 'timeout') throw new Error(`watch: condition not met within ${timeoutMs} ms; got ${JSON.stringify(out).slice(0, 1500)}`);
    if (next.done) throw new Error(`watch ended; got ${JSON.stringify(out).slice(0, 1500)}`);
    out.push(next.value);
    if (last(next.value)) return out;
  }
}
