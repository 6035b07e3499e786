import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Subjects } from '@tangerine/contracts';
import { frameOf, wants } from './event-hub.js';
import { MAX_PENDING_BYTES, SseWriter } from './sse-writer.js';

/** A real server whose one response is handed to `use`; the test reads it with fetch, or does not read it. */
async function serve(use: (res: http.ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => use(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe('SseWriter: frames to a response in batches, bounded for a client that does not read', () => {
  it('writes nothing before open, then every frame in order, and ends with its reason', async () => {
    let writer!: SseWriter;
    let ended = 0;
    const s = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      writer = new SseWriter(res, () => { ended++; });
      for (let i = 0; i < 500; i++) writer.push(`id: ${i}\ndata: {}\n\n`);
      writer.open();
      setImmediate(() => setImmediate(() => writer.end('done')));
    });
    const text = await (await fetch(s.url)).text();
    assert.equal(text, `${Array.from({ length: 500 }, (_, i) => `id: ${i}\ndata: {}\n\n`).join('')}: done\n\n`);
    assert.equal(ended, 1);
    writer.end('again');
    assert.equal(ended, 1, 'ends once');
    await s.close();
  });

  it('a client that reads nothing is not waited for: past the bound its stream ends, and pushes after are dropped', { timeout: 30_000 }, async () => {
    let writer!: SseWriter;
    let ended = false;
    let pushed = 0;
    const frame = `data: ${'x'.repeat(64 * 1024)}\n\n`;
    const done = new Promise<void>((resolve) => {
      void serve((res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        writer = new SseWriter(res, () => { ended = true; resolve(); });
        writer.open();
        // Pushes in turns of the event loop, as the hub does: each turn's frames go out in one write until the
        // socket's buffers are full; then they wait in the writer, up to MAX_PENDING_BYTES, and the stream ends.
        const more = (): void => {
          if (ended) return;
          for (let i = 0; i < 16; i++) writer.push(frame);
          pushed += 16;
          setImmediate(more);
        };
        more();
      }).then((s) => {
        const client = http.get(s.url, (res) => res.pause());
        void done.then(() => { client.destroy(); void s.close(); });
      });
    });
    await done;
    assert.ok(ended);
    // Bounded: what the kernel's socket buffers took, and at most MAX_PENDING_BYTES more (loopback buffers hold a
    // few MiB); not everything a fast publisher would push.
    assert.ok(pushed * frame.length < 64 * MAX_PENDING_BYTES, `${pushed} frames pushed`);
    writer.push(frame);
  });
});

describe('the hub: which reader wants an event, and its frame', () => {
  const task = { seq: 7, subject: Subjects.events.make('a', 'ready'), kind: 'task' as const, event: { name: 'a', state: 'ready' as const, from: null, attempt: 0, failures: 0, version: 1, host: null, reason: null, exit_code: null, at: '2026-12-01T00:00:00.000Z' } };
  const host = { seq: 8, subject: Subjects.hostEvents.make('h', 'up'), kind: 'host' as const, event: { host: 'h', state: 'up' } } as unknown as Parameters<typeof wants>[1];
  const cases: [string, { kinds: Set<'task' | 'host' | 'rejection' | 'fleet'> | null; name: string | null }, Parameters<typeof wants>[1], boolean][] = [
    ['every kind, every task', { kinds: null, name: null }, task, true],
    ['every kind takes a host event', { kinds: null, name: null }, host, true],
    ['tasks only: not a host event', { kinds: new Set(['task']), name: null }, host, false],
    ['one task: its event', { kinds: null, name: 'a' }, task, true],
    ['one task: not another\'s', { kinds: null, name: 'b' }, task, false],
    ['one task: not a host event', { kinds: null, name: 'a' }, host, false],
  ];
  for (const [what, reader, e, wanted] of cases) it(what, () => assert.equal(wants(reader, e), wanted));
  it('a frame is the id, the kind and the JSON, then a blank line', () => {
    assert.equal(frameOf(task), `id: 7\nevent: task\ndata: ${JSON.stringify(task.event)}\n\n`);
  });
});
