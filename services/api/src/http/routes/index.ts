import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';
import { blanketRoutes } from './blanket.js';
import { eventRoutes } from './events.js';
import { healthRoutes } from './health.js';
import { hostRoutes } from './hosts.js';
import { jobSchedulerRoutes } from './job-scheduler.js';
import { statusRoutes } from './status.js';
import { taskRoutes } from './tasks.js';
import { templateRoutes } from './templates.js';
import { uiRoutes } from './ui.js';

/** A route module: one area of the API. */
export type RouteModule = (app: FastifyInstance, deps: HttpDeps) => void;

/** Every route module, registered in this order: the one place a new area is added. */
export const ROUTES: readonly RouteModule[] = [healthRoutes, taskRoutes, templateRoutes, hostRoutes, eventRoutes, jobSchedulerRoutes, blanketRoutes, statusRoutes, uiRoutes];
