import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import { Limits, ValidationError, isFinished } from '@tangerine/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readTask, readTaskPage } from '../../reads.js';
import { blanketTask, blanketToSpec, newBlanketId, type StoredFile } from '../../seeds/blanket.js';
import type { HttpDeps } from '../deps.js';
import { failures } from './schemas.js';
import { checkSpecs } from './submit.js';

const IdParams = Type.Object({ id: Type.String() });
const ListQuery = Type.Object({ after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false });

/** What a Blanket POST carried: its JSON (`data`, or the body) and the files stored from its other parts. */
interface Posted { body: unknown; files: StoredFile[] }

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('invalid_json', `${field}: is not valid JSON`, { field });
  }
}

/**
 * Blanket's multipart form: the task as a field or a file named `data`, every other file stored in the object store
 * (named by its field, as Blanket named it) and listed in the spec's `files`.
 */
async function readForm(req: FastifyRequest, deps: HttpDeps): Promise<Posted> {
  let data: string | null = null;
  const files: StoredFile[] = [];
  for await (const part of req.parts()) {
    if (part.type === 'field') {
      if (part.fieldname === 'data') data = String(part.value);
      continue;
    }
    if (part.fieldname === 'data') {
      data = (await part.toBuffer()).toString('utf8');
      continue;
    }
    const stored = await deps.client.putFile(part.file, { name: part.fieldname, maxBytes: deps.settings.filesMaxBytes });
    files.push({ name: stored.name, sha256: stored.sha256, size: stored.size });
  }
  if (data === null) throw new ValidationError('invalid_request', 'data: the form needs the task as a field or a file named "data"', { field: 'data' });
  return { body: parseJson(data, 'data'), files };
}

/**
 * Blanket's task routes (its README, "View tasks", "Add a new task", "Delete a task"), on Tangerine's tasks: a task
 * type is a template, a task is named by a UUID. A body without a Content-Type of its own (curl -d sends
 * application/x-www-form-urlencoded) is read as JSON, as Blanket read it.
 */
export function blanketRoutes(app: FastifyInstance, deps: HttpDeps): void {
  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fields: 16, fieldSize: 1024 * 1024, files: Limits.filesPerTask, fileSize: deps.settings.filesMaxBytes, parts: Limits.filesPerTask + 17 } });
    scope.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, parseJson(body as string, 'body'));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    const tags = ['Blanket'];

    scope.post('/task/', {
      config: { access: 'write' },
      schema: { summary: 'Blanket: add a task of a type (JSON, or a multipart form with files)', tags, response: { ...failures(400, 401, 403, 404, 413, 415, 503) } },
    }, async (req, reply) => {
      const posted: Posted = req.isMultipart() ? await readForm(req, deps) : { body: req.body, files: [] };
      const id = newBlanketId();
      const { specs, parsed } = await checkSpecs(deps, { tasks: [{ at: '', spec: blanketToSpec(posted.body, id, posted.files) }], templates: [] });
      await deps.submissions.submit(specs[0]);
      req.log.info({ task: id, files: posted.files.length, caller: req.caller }, 'Blanket task added');
      const now = new Date().toISOString();
      const spec = parsed[0]!;
      return reply.code(201).send(blanketTask({
        name: id, state: spec.schedule_at ? 'scheduled' : 'ready', failures: 0, attempt: 0, reason: null, host: null, pending_dependencies: [],
        spec, created_at: now, updated_at: now, next_run_at: null, retry_at: null, template: (posted.body as { type: string }).type, template_version: null,
      }));
    });

    scope.get('/task/', {
      config: { access: 'read' },
      schema: { summary: 'Blanket: the tasks (a page by id; the Link header gives the following one)', tags, querystring: ListQuery, response: { ...failures(400, 401, 503) } },
    }, async (req, reply) => {
      const q = req.query as { after?: string; limit?: number };
      const page = await readTaskPage(deps.ledger, { ...(q.after ? { after: q.after } : {}), limit: q.limit ?? 500 }, deps.pageBudget());
      if (page.next) void reply.header('link', `</task/?after=${encodeURIComponent(page.next)}>; rel="next"`);
      return page.tasks.map(blanketTask);
    });

    scope.get('/task/:id', {
      config: { access: 'read' },
      schema: { summary: 'Blanket: one task', tags, params: IdParams, response: { ...failures(401, 404, 503) } },
    }, async (req) => blanketTask(await readTask(deps.ledger, (req.params as { id: string }).id)));

    scope.delete('/task/:id', {
      config: { access: 'write' },
      schema: { summary: 'Blanket: delete a task (cancel it if it has not ended; its record stays until retention)', tags, params: IdParams, response: { ...failures(401, 403, 404, 503) } },
    }, async (req) => {
      const { id } = req.params as { id: string };
      const task = await readTask(deps.ledger, id);
      if (!isFinished(task.state)) await deps.client.cancel(id);
      req.log.info({ task: id, attempt: task.attempt, host: task.host, caller: req.caller }, 'Blanket task removed');
      return { id };
    });
  });
}
