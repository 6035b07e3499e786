// job-scheduler's routes (shared/seeds, "job-scheduler"), mapped onto Tangerine's tasks: a job is a task named by its
// id that starts at `schedule` (Tangerine's `schedule_at`). Pure: the HTTP routes only move these values.
import { randomInt } from 'node:crypto';
import { ValidationError, type TaskState, type TaskView } from '@tangerine/contracts';

/** What `POST /schedule` takes, as job-scheduler's README lists it. */
export interface ScheduleRequest {
  schedule: string;
  docker_image: string;
  env?: string[];
  cmd?: string;
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** job-scheduler's ids are 32 letters and digits (`xqKQiunYlaKrPhDSfj06tUzSvPiGJJ9G`); so are these, and they are task names. */
export function newJobId(): string {
  let id = '';
  for (let i = 0; i < 32; i++) id += ID_CHARS[randomInt(ID_CHARS.length)];
  return id;
}

function invalid(field: string, rule: string): ValidationError {
  return new ValidationError('invalid_request', `${field}: ${rule}`, { field });
}

/** An ISO 8601 time without an offset is UTC: job-scheduler handed it to Celery as an ETA, which reads it so. */
const OFFSET_RE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * The task spec of a job: `schedule` → `schedule_at`, `docker_image` → `image`, `env` as is (Tangerine reads
 * `["key=value"]`), `cmd` → `command` (a string, run by `sh -c` as job-scheduler's worker ran it). Every rule of the
 * spec is then parseTaskSpec's, as for any submission.
 */
export function scheduleToSpec(body: unknown, id: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!['schedule', 'docker_image', 'env', 'cmd'].includes(key)) throw invalid(key, 'unknown field (allowed: schedule, docker_image, env, cmd)');
  }
  if (typeof b['schedule'] !== 'string' || b['schedule'] === '') throw invalid('schedule', 'is required: an ISO 8601 date and time');
  if (typeof b['docker_image'] !== 'string' || b['docker_image'] === '') throw invalid('docker_image', 'is required: an image name');
  if (b['cmd'] !== undefined && typeof b['cmd'] !== 'string') throw invalid('cmd', 'must be a string');
  if (b['env'] !== undefined && !Array.isArray(b['env'])) throw invalid('env', 'must be a list of "key=value" strings');
  const schedule = OFFSET_RE.test(b['schedule']) ? b['schedule'] : `${b['schedule']}Z`;
  return {
    name: id,
    image: b['docker_image'],
    schedule_at: schedule,
    ...(b['env'] !== undefined ? { env: b['env'] } : {}),
    ...(b['cmd'] !== undefined && b['cmd'] !== '' ? { command: b['cmd'] } : {}),
  };
}

/** job-scheduler's four statuses: scheduled, running, finished, failed. */
export function jobStatus(state: TaskState): 'scheduled' | 'running' | 'finished' | 'failed' {
  switch (state) {
    case 'running': return 'running';
    case 'success': return 'finished';
    case 'failed': case 'blocked': case 'cancelled': return 'failed';
    default: return 'scheduled';
  }
}

/** The answer of `POST /schedule`. */
export function scheduled(id: string): { status: 'scheduled'; message: string; id: string } {
  return { status: 'scheduled', message: 'job successfully scheduled', id };
}

/** The schedule shown: the task's start time, else the time it was created (a task not made by `/schedule`). */
function scheduleOf(task: TaskView): string {
  return task.spec.schedule_at ?? task.created_at;
}

/** One entry of `GET /list`. */
export function jobEntry(task: TaskView): { status: string; id: string; schedule: string } {
  return { status: jobStatus(task.state), id: task.name, schedule: scheduleOf(task) };
}

/** Docker's word for where a container is, from the task's state. */
function containerStatus(state: TaskState): string {
  if (state === 'running') return 'running';
  if (state === 'success' || state === 'failed' || state === 'cancelled') return 'exited';
  return 'created';
}

/**
 * `GET /status/<id>`: job-scheduler's shape. `aws` names the host that ran the latest attempt (its `instanceId`
 * label when the host has one: the autoscaler's EC2 hosts), `docker` the container (`tangerine-<name>-<attempt>`,
 * the agent's name for it). There is no Celery: `celery` is null.
 */
export function jobDetail(task: TaskView, instanceId: string | null = null): Record<string, unknown> {
  const run = task.runs?.[0];
  const started = task.attempt > 0 && task.spec.executor === 'docker';
  return {
    status: jobStatus(task.state),
    schedule: scheduleOf(task),
    aws: task.host ? { instance_id: instanceId ?? task.host, host: task.host, ready: true, state: task.state === 'running' ? 'running' : 'idle' } : {},
    celery: null,
    docker: {
      container_id: started ? `tangerine-${task.name}-${task.attempt}` : '',
      container_status: containerStatus(task.state),
      environment: Object.entries(task.spec.env).map(([k, v]) => `${k}=${v}`),
      command: commandText(task.spec.command),
      docker_image: task.spec.image ?? '',
      container_exit_code: run?.exit_code ?? '',
    },
    id: task.name,
  };
}

/** `["sh", "-c", "sleep 60"]` (how a `cmd` is stored) shows as `sleep 60`, as it was given. */
function commandText(command: string[]): string {
  if (command.length === 3 && command[0] === 'sh' && command[1] === '-c') return command[2]!;
  return command.join(' ');
}
