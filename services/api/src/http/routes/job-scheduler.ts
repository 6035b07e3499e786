import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { readTask, readTaskPage } from '../../reads.js';
import { jobDetail, jobEntry, newJobId, scheduleToSpec, scheduled } from '../../seeds/job-scheduler.js';
import type { HttpDeps } from '../deps.js';
import { CHECKED_BY_ROUTE } from '../validation.js';
import { failures } from './schemas.js';
import { checkSpecs } from './submit.js';

const ScheduleBody = Type.Object({
  schedule: Type.String({ description: 'ISO 8601; without an offset it is UTC' }),
  docker_image: Type.String(),
  env: Type.Optional(Type.Array(Type.String(), { description: '"key=value" pairs' })),
  cmd: Type.Optional(Type.String({ description: 'run by sh -c' })),
}, { [CHECKED_BY_ROUTE]: true });
const IdParams = Type.Object({ id: Type.String() });
const ListQuery = Type.Object({ after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false });

/**
 * job-scheduler's routes (its README, "API Endpoints"), on Tangerine's tasks: a job is a task named by its id that
 * starts at `schedule`. Tokens as for /v1 (writes need a write token); `/healthcheck` is open.
 */
export function jobSchedulerRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const tags = ['job-scheduler'];
  app.post('/schedule', {
    config: { access: 'write' },
    schema: { summary: 'job-scheduler: schedule a container at a time', tags, body: ScheduleBody, response: { ...failures(400, 401, 403, 409, 503) } },
  }, async (req) => {
    const id = newJobId();
    const { specs } = await checkSpecs(deps, { tasks: [{ at: '', spec: scheduleToSpec(req.body, id) }], templates: [] });
    await deps.submissions.submit(specs[0]);
    req.log.info({ task: id, caller: req.caller }, 'job scheduled');
    return scheduled(id);
  });

  app.get('/list', {
    config: { access: 'read' },
    schema: { summary: 'job-scheduler: jobs and their status (a page by id; `next` for the following one)', tags, querystring: ListQuery, response: { ...failures(400, 401, 503) } },
  }, async (req) => {
    const q = req.query as { after?: string; limit?: number };
    const page = await readTaskPage(deps.ledger, { ...(q.after ? { after: q.after } : {}), limit: q.limit ?? 1000 }, deps.pageBudget());
    return { jobs: page.tasks.map(jobEntry), next: page.next };
  });

  app.get('/status/:id', {
    config: { access: 'read' },
    schema: { summary: 'job-scheduler: one job: status, schedule, host, container', tags, params: IdParams, response: { ...failures(401, 404, 503) } },
  }, async (req) => jobDetail(await readTask(deps.ledger, (req.params as { id: string }).id)));

  app.get('/healthcheck', {
    config: { access: 'open' },
    schema: { summary: 'job-scheduler: "live" while the API runs', tags },
  }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send('live'));
}
