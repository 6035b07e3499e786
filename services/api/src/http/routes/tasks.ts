import { once } from 'node:events';
import { Type } from '@sinclair/typebox';
import { ConflictError, ListRequest, RunList, TaskList, TaskSpec, TaskView, isFinished } from '@tangerine/contracts';
import type { FastifyInstance } from 'fastify';
import { readRunOutput, readRunPage, readTask, readTaskPage } from '../../reads.js';
import type { HttpDeps } from '../deps.js';
import { linkNext } from '../paging.js';
import { streamsOf } from '../streams.js';
import { CHECKED_BY_ROUTE } from '../validation.js';
import { NameParams, failures } from './schemas.js';
import { checkSpecs, documentsOf, messagesOf } from './submit.js';

const Accepted = Type.Object({
  /** The names of the tasks submitted, in the body's order. */
  names: Type.Array(Type.String()),
});
const RunsQuery = Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) }, { additionalProperties: false });
const OutputParams = Type.Object({ name: NameParams.properties.name, attempt: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const OutputQuery = Type.Object({
  follow: Type.Optional(Type.Boolean({ description: 'stream the output while the run runs, ending when it ends' })),
}, { additionalProperties: false });
const SubmitBody = Type.Union([TaskSpec, Type.Array(TaskSpec)], {
  [CHECKED_BY_ROUTE]: true,
  description: 'A task spec, a JSON list of specs, or (Content-Type application/yaml) YAML documents of specs. Each is checked as intake checks it: the spec\'s own aliases are taken.',
});

export function taskRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.post('/v1/tasks', {
    config: { access: 'write' },
    schema: {
      summary: 'Submit one spec, a JSON list, or YAML documents; 202 once JetStream stored them', tags: ['tasks'],
      consumes: ['application/json', 'application/yaml'], body: SubmitBody,
      response: { 202: Accepted, ...failures(400, 401, 403, 409, 413, 415, 503) },
    },
  }, async (req, reply) => {
    const { specs, parsed } = await checkSpecs(deps, documentsOf(req.body));
    if (specs.length === 1) await deps.submissions.submit(specs[0]);
    else for (const message of messagesOf(specs, deps.pageBudget())) await deps.client.submit(message);
    const names = parsed.map((s) => s.name);
    req.log.info({ task: names.length === 1 ? names[0] : undefined, tasks: names.length, caller: req.caller }, 'tasks submitted');
    if (names.length === 1) void reply.header('location', `/v1/tasks/${names[0]}`);
    return reply.code(202).send({ names });
  });

  app.get('/v1/tasks', {
    config: { access: 'read' },
    schema: {
      summary: 'A page of tasks by name; `next` (and the Link header) gives the following page', tags: ['tasks'],
      querystring: ListRequest, response: { 200: TaskList, ...failures(400, 401, 503) },
    },
  }, async (req, reply) => {
    const page = await readTaskPage(deps.ledger, req.query as ListRequest, deps.pageBudget());
    linkNext(req, reply, 'after', page.next);
    return page;
  });

  app.get('/v1/tasks/:name', {
    config: { access: 'read' },
    schema: { summary: 'One task, its latest runs and fires', tags: ['tasks'], params: NameParams, response: { 200: TaskView, ...failures(400, 401, 404, 503) } },
  }, async (req) => readTask(deps.ledger, (req.params as { name: string }).name));

  app.delete('/v1/tasks/:name', {
    config: { access: 'write' },
    schema: {
      summary: 'Cancel a task (through the bus); 202 once stored', tags: ['tasks'], params: NameParams,
      response: { 202: Type.Object({ name: Type.String() }), ...failures(400, 401, 403, 404, 409, 503) },
    },
  }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const task = await readTask(deps.ledger, name);
    if (isFinished(task.state)) throw new ConflictError('not_cancellable', `name: task "${name}" is already ${task.state}`, { field: 'name' });
    await deps.client.cancel(name);
    req.log.info({ task: name, attempt: task.attempt, host: task.host, caller: req.caller }, 'task cancel sent');
    return reply.code(202).send({ name });
  });

  app.get('/v1/tasks/:name/runs', {
    config: { access: 'read' },
    schema: {
      summary: 'A task\'s runs, newest first; `next` is the `before` of the following page', tags: ['tasks'],
      params: NameParams, querystring: RunsQuery, response: { 200: RunList, ...failures(400, 401, 404, 503) },
    },
  }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const page = await readRunPage(deps.ledger, { name, ...(req.query as { before?: number; limit?: number }) });
    linkNext(req, reply, 'before', page.next);
    return page;
  });

  const streams = streamsOf(app, deps.settings.maxStreams);
  app.get('/v1/tasks/:name/runs/:attempt/output', {
    config: { access: 'read' },
    schema: {
      summary: 'One run\'s whole output (the last 64 KiB the ledger keeps), as text; with follow=true, streamed as the run prints it, to its end',
      tags: ['tasks'], params: OutputParams, querystring: OutputQuery,
      produces: ['text/plain'], response: { 200: Type.String(), ...failures(400, 401, 404, 503) },
    },
  }, async (req, reply) => {
    const { name, attempt } = req.params as { name: string; attempt: number };
    const { follow } = req.query as { follow?: boolean };
    if (!follow) {
      const { output } = await readRunOutput(deps.ledger, name, attempt);
      return reply.type('text/plain; charset=utf-8').send(output);
    }
    const task = await readTask(deps.ledger, name);
    // A run that can never come (the task is finished before it): the not_found of the plain read.
    if (attempt > task.attempt && isFinished(task.state)) await readRunOutput(deps.ledger, name, attempt);
    const stop = new AbortController();
    const release = streams.open('output', () => stop.abort());
    const res = reply.raw;
    reply.hijack();
    // Chunked (no length): the output as it comes, the end of the response the end of the run.
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const closed = once(res, 'close').then(() => stop.abort());
    const line = { task: name, attempt, host: task.host, caller: req.caller };
    req.log.debug(line, 'output follow open');
    try {
      const reads = { task: (n: string) => readTask(deps.ledger, n), output: (n: string, a: number) => readRunOutput(deps.ledger, n, a) };
      for await (const chunk of deps.client.follow(name, attempt, { signal: stop.signal, reads })) {
        if (res.destroyed) break;
        // A slow reader: wait until it took what was written (or went); the follow's queue is bounded meanwhile.
        if (chunk.data.length > 0 && !res.write(chunk.data)) await Promise.race([once(res, 'drain'), closed]);
      }
    } catch (err) {
      req.log.warn({ ...line, err }, 'output follow ended by an error');
    } finally {
      release();
      if (!res.destroyed) res.end();
    }
  });
}
