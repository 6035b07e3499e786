import { once } from 'node:events';
import { Type } from '@sinclair/typebox';
import { EVENT_KINDS, type EventKind, type Watch } from '@tangerine/client';
import { TaskName, ValidationError } from '@tangerine/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpDeps } from '../deps.js';
import { EventHub, frameOf } from '../event-hub.js';
import { SseWriter } from '../sse-writer.js';
import { streamsOf } from '../streams.js';
import { failures } from './schemas.js';

const EventsQuery = Type.Object({
  name: Type.Optional(TaskName),
  kinds: Type.Optional(Type.String({ maxLength: 100, description: `comma-separated: ${EVENT_KINDS.join(', ')}` })),
  last_event_id: Type.Optional(Type.String({ maxLength: 20 })),
}, { additionalProperties: false });

const SSE_HEAD = {
  'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
  // A proxy (nginx) would otherwise hold the stream back in its buffer.
  'x-accel-buffering': 'no',
};

/** An event id is the stream sequence: digits, as the stream numbers them. */
const SEQ = /^\d{1,15}$/;

function resumeAfter(header: string | string[] | undefined, query: string | undefined): number | null {
  const given = (Array.isArray(header) ? header[0] : header) ?? query;
  if (given === undefined || given.trim() === '') return null;
  if (!SEQ.test(given.trim())) {
    throw new ValidationError('invalid_request', `last_event_id: must be an event id, the stream sequence of an event (got ${JSON.stringify(given.slice(0, 20))})`, { field: 'last_event_id' });
  }
  return Number(given.trim());
}

function kindsOf(text: string | undefined): EventKind[] | undefined {
  if (text === undefined) return undefined;
  const kinds = text.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) {
    if (!(EVENT_KINDS as string[]).includes(k)) throw new ValidationError('invalid_request', `kinds: each must be one of ${EVENT_KINDS.join(', ')} (got ${JSON.stringify(k.slice(0, 20))})`, { field: 'kinds' });
  }
  return kinds.length > 0 ? (kinds as EventKind[]) : undefined;
}

/**
 * GET /v1/events: the events of TANGERINE_EVENTS as server-sent events, each `id:` its stream sequence, `event:` its
 * kind, `data:` its JSON. A client that reconnects with `Last-Event-ID` (or `?last_event_id=`) gets every event after
 * that one, none twice: the watch is an ordered consumer started at the next sequence. Streams are bounded
 * (API_MAX_STREAMS): each holds an ordered consumer on the NATS server.
 */
export function eventRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const streams = streamsOf(app, deps.settings.maxStreams);
  const hub = new EventHub(deps.client, deps.log);
  app.addHook('preClose', async () => hub.stop());

  /** A stream from now: a reader of the hub, written in batches. */
  const live = async (req: FastifyRequest, reply: FastifyReply, name: string | null, kinds: EventKind[] | undefined): Promise<void> => {
    const res = reply.raw;
    const closed = once(res, 'close');
    let leave = (): void => undefined;
    const writer: SseWriter = new SseWriter(res, () => leave());
    const release = streams.open('events', () => writer.end('the API is closing'));
    let after: number;
    try {
      ({ after, leave } = await hub.join({ kinds: kinds ? new Set(kinds) : null, name, push: (f) => writer.push(f), end: (r) => writer.end(r) }));
    } catch (err) {
      release();
      throw err;
    }
    reply.hijack();
    res.writeHead(200, SSE_HEAD);
    res.write(`retry: 2000\n: stream open after ${after}\n\n`);
    writer.open();
    const heartbeat = setInterval(() => writer.push(': heartbeat\n\n'), deps.settings.heartbeatMs);
    req.log.debug({ caller: req.caller, name, readers: hub.size }, 'event stream open (live)');
    await closed;
    clearInterval(heartbeat);
    leave();
    release();
  };

  app.get('/v1/events', {
    config: { access: 'read' },
    schema: {
      summary: 'The event stream, as server-sent events; resumable with Last-Event-ID', tags: ['events'], querystring: EventsQuery,
      produces: ['text/event-stream'], response: { 200: Type.String({ description: 'id: <seq>\\nevent: <kind>\\ndata: <event JSON>\\n\\n, and a comment every 15 s' }), ...failures(400, 401, 503) },
    },
  }, async (req, reply) => {
    const q = req.query as { name?: string; kinds?: string; last_event_id?: string };
    const after = resumeAfter(req.headers['last-event-id'], q.last_event_id);
    const kinds = kindsOf(q.kinds);
    if (after === null) return live(req, reply, q.name ?? null, kinds);
    let watch: Watch | null = null;
    const release = streams.open('events', () => watch?.stop());
    try {
      watch = await deps.client.watch({ from: after === null ? 'now' : after + 1, ...(q.name !== undefined ? { name: q.name } : {}), ...(kinds ? { kinds } : {}) });
    } catch (err) {
      release();
      throw err;
    }
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, SSE_HEAD);
    // The first bytes at once: the client knows the stream is open (and `retry:` how soon to come back).
    res.write(`retry: 2000\n: stream open after ${watch.lastSeq ?? 0}\n\n`);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), deps.settings.heartbeatMs);
    // The response's close, not the request's: a GET's request closes once read, long before the client goes.
    const closed = once(res, 'close').then(() => watch.stop());
    req.log.debug({ caller: req.caller, after, name: q.name }, 'event stream open');
    try {
      for await (const e of watch) {
        if (res.destroyed) break;
        if (!res.write(frameOf(e))) {
          // A slow client: wait until it took what was written (or went), so the ordered consumer's flow control
          // holds the stream back instead of this process's memory.
          await Promise.race([once(res, 'drain'), closed]);
        }
      }
    } catch (err) {
      req.log.warn({ err, caller: req.caller }, 'event stream ended by an error');
    } finally {
      clearInterval(heartbeat);
      watch.stop();
      release();
      if (!res.destroyed) res.end();
    }
  });
}
