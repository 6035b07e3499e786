import { Limits, Overview, Schedule, ScheduleRequest, TaskGraph } from '@tangerine/contracts';
import { countTasksByState, fillMinutes, readEndedPerMinute, readReadyByLabels, readScalingSummary, readUpcoming, readWorkflow } from '@tangerine/ledger';
import type { FastifyInstance } from 'fastify';
import { noTask } from '../../reads.js';
import type { HttpDeps } from '../deps.js';
import { NameParams, failures } from './schemas.js';

const HOUR_MS = 3_600_000;

/**
 * What the status page (routes/ui.ts) reads beyond the task and host routes: the overview's counts, a task's
 * workflow graph, and the upcoming starts of cron and schedule_at tasks. Each is one bounded read of the ledger.
 */
export function statusRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/v1/overview', {
    config: { access: 'read' },
    schema: {
      summary: 'Tasks per state, ready tasks per label set, the last hour\'s ended runs per minute, and the autoscaler\'s desired and actual counts', tags: ['status'],
      response: { 200: Overview, ...failures(401, 503) },
    },
  }, async (): Promise<Overview> => {
    const now = new Date();
    const [counts, ready, ended, scaling] = await Promise.all([
      countTasksByState(deps.ledger), readReadyByLabels(deps.ledger), readEndedPerMinute(deps.ledger, new Date(Math.floor(now.getTime() / 60_000) * 60_000 - HOUR_MS + 60_000)),
      readScalingSummary(deps.ledger),
    ]);
    return { counts, ready_by_labels: ready, minutes: fillMinutes(ended, now), scaling, at: now.toISOString() };
  });

  app.get('/v1/tasks/:name/graph', {
    config: { access: 'read' },
    schema: {
      summary: `The task's workflow: every task its dependencies connect it to, either way (at most ${Limits.graphNodes}, nearest first), and the edges between them`,
      tags: ['tasks'], params: NameParams, response: { 200: TaskGraph, ...failures(400, 401, 404, 503) },
    },
  }, async (req): Promise<TaskGraph> => {
    const { name } = req.params as { name: string };
    const graph = await readWorkflow(deps.ledger, name);
    if (graph === null) throw noTask(name);
    return graph;
  });

  app.get('/v1/schedule', {
    config: { access: 'read' },
    schema: {
      summary: 'Cron and schedule_at tasks by their next start, soonest first, within `hours` (24)', tags: ['status'],
      querystring: ScheduleRequest, response: { 200: Schedule, ...failures(400, 401, 503) },
    },
  }, async (req): Promise<Schedule> => {
    const q = req.query as ScheduleRequest;
    const until = new Date(Date.now() + (q.hours ?? 24) * HOUR_MS);
    const limit = Math.min(q.limit ?? Limits.scheduleItems, Limits.scheduleItems);
    const tasks = await readUpcoming(deps.ledger, until, limit);
    return { tasks: tasks.slice(0, limit), until: until.toISOString(), truncated: tasks.length > limit };
  });
}
