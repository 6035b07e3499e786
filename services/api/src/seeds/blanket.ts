// Blanket's task routes (shared/seeds, "Blanket"), mapped onto Tangerine's tasks: a Blanket task type is a Tangerine
// template, a task is a task named by a UUID, its `environment` is merged into the template's env, and the files
// uploaded with it reach the run's working directory. Pure: the HTTP routes only move these values.
import { randomUUID } from 'node:crypto';
import { ValidationError, type TaskState, type TaskView } from '@tangerine/contracts';

/** A file as the spec's `files` names it (stored in the object store before the task is submitted). */
export interface StoredFile {
  name: string;
  sha256: string;
  size: number;
}

/** Blanket's ids are UUIDs (`b200f6de-0453-46c9-9c70-5dad63db3ebb`); so are these, and they are task names. */
export function newBlanketId(): string {
  return randomUUID();
}

function invalid(field: string, rule: string): ValidationError {
  return new ValidationError('invalid_request', `${field}: ${rule}`, { field });
}

/**
 * The task spec of a Blanket task: `type` → `template`, `environment` → `env` (numbers and booleans written as text,
 * as Blanket's cast did: `"Frogs": 5` is `Frogs=5`), the uploaded files → `files`.
 */
export function blanketToSpec(body: unknown, id: string, files: StoredFile[] = []): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (key !== 'type' && key !== 'environment') throw invalid(key, 'unknown field (allowed: type, environment)');
  }
  if (b['type'] === undefined) throw invalid('type', 'is required: the name of a task type (a Tangerine template)');
  if (typeof b['type'] !== 'string' || b['type'] === '') throw invalid('type', 'must be a string');
  const env: Record<string, string> = {};
  if (b['environment'] !== undefined) {
    const e = b['environment'];
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalid('environment', 'must be a map of names to values');
    for (const [k, v] of Object.entries(e)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw invalid(`environment.${k}`, 'must be a string, a number or a boolean');
      env[k] = String(v);
    }
  }
  return { name: id, template: b['type'], ...(Object.keys(env).length > 0 ? { env } : {}), ...(files.length > 0 ? { files } : {}) };
}

/** Blanket's states: WAIT, START, RUN, SUCCESS, ERROR, STOPPED. */
export function blanketState(state: TaskState): string {
  switch (state) {
    case 'placed': return 'START';
    case 'running': return 'RUN';
    case 'success': return 'SUCCESS';
    case 'failed': case 'blocked': return 'ERROR';
    case 'cancelled': return 'STOPPED';
    default: return 'WAIT';
  }
}

const seconds = (iso: string | null | undefined): number => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

/** A task in Blanket's JSON (`id`, `type`, `state`, `defaultEnv`, times in Unix seconds, …). */
export function blanketTask(task: TaskView): Record<string, unknown> {
  const run = task.runs?.[0];
  return {
    id: task.name,
    createdTs: seconds(task.created_at),
    startedTs: seconds(run?.started_at),
    lastUpdatedTs: seconds(task.updated_at),
    type: task.template,
    resultDir: '',
    state: blanketState(task.state),
    progress: task.state === 'success' ? 100 : 0,
    defaultEnv: task.spec.env,
    tags: Object.entries(task.spec.constraints).map(([k, v]) => (v === 'true' ? k : `${k}=${v}`)),
  };
}
