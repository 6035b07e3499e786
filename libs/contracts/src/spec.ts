import { Type, type Static } from '@sinclair/typebox';
import { checkTimezone, isCronError, parseCron } from '@tangerine/cron';
import { ValidationError } from './errors.js';
import { DEFAULT_FILE_LIMITS, TaskFile, checkFiles, type FileLimits } from './files.js';
import { Limits, nestsDeeper, utf8Bytes } from './limits.js';
import { LABEL_KEY_RE, LABEL_KEY_RULE, NAME_PATTERN, NAME_RE, NAME_RULE } from './names.js';
import { RETRY_DELAY_S, RETRY_MAX_DELAY_S } from './retry.js';
import { TASK_LABEL, TaskInstance } from './task-instance.js';
import { compile, quote, shortKey } from './validate.js';

/** Task names are unique and usable as a NATS subject token. */
export const TASK_NAME_PATTERN = NAME_PATTERN;
export const TASK_NAME_RULE = NAME_RULE;
const TASK_NAME_RE = NAME_RE;

const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** `host:container` or `host:container:ro|rw`, both absolute paths. */
const VOLUME_RE = /^(\/[^:]*):(\/[^:]*)(?::(ro|rw))?$/;

export const Executor = { docker: 'docker', process: 'process' } as const;
export type Executor = (typeof Executor)[keyof typeof Executor];

export const TaskName = Type.String({ pattern: TASK_NAME_PATTERN, description: 'a task name' });
/** Any string of a spec that has no tighter rule: an argument, an env value, a label value. */
const Text = Type.String({ maxLength: Limits.stringChars });
const Key = Type.String({ maxLength: Limits.keyChars });

/** The task states a spec's `notify` may name: the ends of a task a person may want to hear of. */
export const NOTIFY_STATES = ['success', 'failed', 'blocked', 'cancelled'] as const;
export type NotifyState = (typeof NOTIFY_STATES)[number];
const NotifyState = Type.Union(NOTIFY_STATES.map((s) => Type.Literal(s)), { description: NOTIFY_STATES.map((s) => `"${s}"`).join(', ') });

/** The task spec after normalization: what the ledger stores and the agent receives. */
export const TaskSpec = Type.Object(
  {
    /** Unique name, `[A-Za-z0-9][A-Za-z0-9_-]{0,99}`. */
    name: TaskName,
    /** `docker` (default) runs `image`; `process` runs `command` as a local process on the agent's host. */
    executor: Type.Union([Type.Literal('docker'), Type.Literal('process')], { description: '"docker" or "process"' }),
    /** Docker image; a local image is used as is, a missing one is pulled. Null for the process executor. */
    image: Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Null()]),
    /** Argument vector; for docker it replaces the image's CMD. */
    command: Type.Array(Text, { maxItems: Limits.commandItems }),
    /** Replaces the image's ENTRYPOINT when set. */
    entrypoint: Type.Union([Type.Array(Text, { maxItems: Limits.entrypointItems }), Type.Null()]),
    /** Environment variables. */
    env: Type.Record(Key, Text, { maxProperties: Limits.envEntries }),
    /**
     * Environment variables whose values are secret: stored apart from the spec, sent only in the dispatch to the
     * agent that runs the task, and shown everywhere else as `"(secret)"` (SECRET_SHOWN).
     */
    secret_env: Type.Record(Key, Text, { maxProperties: Limits.envEntries }),
    /** Bind mounts, `host:container[:ro|rw]`. */
    volumes: Type.Array(Type.String({ maxLength: Limits.volumeChars }), { maxItems: Limits.volumes }),
    /** Names of tasks that must succeed first; they may be submitted later. */
    dependencies: Type.Array(TaskName, { maxItems: Limits.dependencies }),
    /** May the task run again after a failure or the loss of its host? */
    restartable: Type.Boolean(),
    /** Exit codes after which a restartable task is retried. */
    recoverable_exitcodes: Type.Array(Type.Integer({ minimum: 1, maximum: 255 }), { maxItems: 255 }),
    /** Failures allowed before the task is `failed` for good. */
    max_failures: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Seconds a retry waits after the first failure, doubled for each failure after it; 0 retries at once. */
    retry_delay: Type.Number({ minimum: 0, maximum: 86_400 }),
    /** The most a retry waits, in seconds. */
    retry_max_delay: Type.Number({ minimum: 0, maximum: 86_400 }),
    /** Host labels the task needs, every one equal (Tangerine's host labels, Blanket's worker tags). */
    constraints: Type.Record(Key, Type.String({ maxLength: 256 }), { maxProperties: Limits.constraints }),
    /** CPU cores reserved on the host (and the container's CPU limit). */
    cpu: Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1024 }), Type.Null()]),
    /** Memory in MiB reserved on the host (and the container's memory limit). */
    memory: Type.Union([Type.Integer({ minimum: 4, maximum: 4194304 }), Type.Null()]),
    /** Cron expression: after each run the task returns to the queue at its next fire time. */
    cron: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
    /** IANA time zone of `cron`; filled from `TZ` (else UTC) for a cron task, null otherwise. */
    timezone: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
    /** A fire time that comes while a run is still going: `forbid` skips it (recorded), `allow` starts another run. */
    concurrency: Type.Union([Type.Literal('forbid'), Type.Literal('allow')], { description: '"forbid" or "allow"' }),
    /** Seconds after a missed fire time within which one catch-up run still starts. */
    starting_deadline: Type.Integer({ minimum: 1, maximum: 31_536_000 }),
    /** The task stays `scheduled` until this time (ISO 8601 with an offset; stored in UTC). */
    schedule_at: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    /** Seconds a run may take; then it is killed and ends with exit code 124 and reason `timeout`. */
    timeout: Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000 }), Type.Null()]),
    /**
     * Files stored in the object store (FILES_BUCKET) beforehand, which the agent writes into the run's working
     * directory. Absent when the task has none (specs stored before files existed have none either).
     */
    files: Type.Optional(Type.Array(TaskFile, { maxItems: Limits.filesPerTask })),
    /**
     * The states of this task the notifier reports (services/notifier): replaces NOTIFY_EVENTS' task states for it,
     * so `["success", "failed"]` opts in to successes and `[]` silences the task. Absent: the service's defaults.
     */
    notify: Type.Optional(Type.Array(NotifyState, { maxItems: NOTIFY_STATES.length })),
    /**
     * A fresh EC2 instance of its own (`{"type": "c5.large", "spot": true}`): the autoscaler launches it when the
     * task is ready, the task runs there and nowhere else, and the instance is terminated when the task ends.
     * Absent: the task runs on the fleet's hosts.
     */
    instance: Type.Optional(TaskInstance),
  },
  { additionalProperties: false },
);
export type TaskSpec = Static<typeof TaskSpec>;
const taskSpec = compile(TaskSpec);

/**
 * Fields a user may send, including Tangerine's and job-scheduler's older forms. `template` names a stored template
 * (templates.ts) that intake merges in before the spec is checked; it is not a field of the TaskSpec.
 */
export const ACCEPTED_FIELDS = [
  'name', 'executor', 'image', 'imageuuid', 'command', 'entrypoint', 'env', 'environment', 'secret_env', 'volumes',
  'datavolumes', 'dependencies', 'restartable', 'recoverable_exitcodes', 'max_failures', 'retry_delay', 'retry_max_delay', 'constraints',
  'cpu', 'memory', 'cron', 'timezone', 'concurrency', 'starting_deadline', 'schedule_at', 'timeout', 'template', 'files',
  'notify', 'instance',
] as const;

/** A template named by a spec: `"name"` (its latest version) or `"name:3"` (version 3). */
export interface TemplateRef {
  name: string;
  /** Null: the latest version. */
  version: number | null;
}

/** The highest template version a reference may name (a PostgreSQL integer). */
export const MAX_TEMPLATE_VERSION = 2_147_483_647;
const TEMPLATE_REF_RE = new RegExp(`^(${NAME_RULE})(?::([1-9][0-9]{0,9}))?$`);

/** Reads a spec's `template`: `"name"` or `"name:<version>"`, or throws a ValidationError naming `template`. */
export function parseTemplateRef(value: unknown): TemplateRef {
  const m = typeof value === 'string' ? TEMPLATE_REF_RE.exec(value) : null;
  const version = m?.[2] === undefined ? null : Number(m[2]);
  if (!m || (version !== null && version > MAX_TEMPLATE_VERSION)) {
    throw invalid('template', `must be "NAME" or "NAME:VERSION", NAME matching ${NAME_RULE} and VERSION an integer from 1 (got ${quote(value)})`);
  }
  return { name: m[1]!, version };
}

/** The exit code a run that timed out ends with, as GNU timeout(1) gives: list it in recoverable_exitcodes to retry. */
export const TIMEOUT_EXIT_CODE = 124;

/** What every read shows for the value of a `secret_env` entry: the name is kept, the value never leaves the ledger. */
export const SECRET_SHOWN = '(secret)';

/** Child tasks of `concurrency: allow` are named `<name>-<YYYYMMDDTHHMMSS>`: 16 characters of the 100. */
export const CHILD_SUFFIX_LENGTH = 16;

export interface ParseOptions {
  /** The zone of a cron task that names none: the `TZ` environment variable, else UTC. */
  defaultTimezone?: string;
  /** The spec's JSON text, when the caller has it (intake, as received): its size is read from it, not written again. */
  json?: string;
  /** The bounds of `files` (FILES_MAX_BYTES, FILES_MAX_TOTAL); the defaults of Limits when not given. */
  fileLimits?: FileLimits;
}

function invalid(field: string, rule: string): ValidationError {
  return new ValidationError('invalid_spec', `${field}: ${rule}`, { field });
}

/**
 * Turns a submitted payload into a TaskSpec, or throws a ValidationError whose message names the field
 * and the rule. Pure: no I/O, so the CLI, the API and intake give the same verdict.
 */
export function parseTaskSpec(input: unknown, options: ParseOptions = {}): TaskSpec {
  try {
    return parseSpec(input, options);
  } catch (err) {
    throw withoutSecretQuote(err);
  }
}

/**
 * An error about `secret_env` says which entry and which rule, never what was given: `(got …)` could quote the
 * secret itself (a list item `"PASSWORD"` that lacks its `=`), and rejections and logs carry the message.
 */
function withoutSecretQuote(err: unknown): unknown {
  if (!(err instanceof ValidationError) || !(err.field === 'secret_env' || err.field?.startsWith('secret_env.') || err.field?.startsWith('secret_env['))) return err;
  const at = err.message.indexOf(' (got ');
  return at < 0 ? err : new ValidationError(err.code, err.message.slice(0, at), { field: err.field });
}

function parseSpec(input: unknown, options: ParseOptions): TaskSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('spec', `must be a JSON object (got ${quote(input)})`);
  }
  checkSize(input, options.json);
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(ACCEPTED_FIELDS as readonly string[]).includes(key)) {
      throw invalid(key, `unknown field (allowed: ${ACCEPTED_FIELDS.join(', ')})`);
    }
  }
  // A spec that still names a template was not merged with it (intake merges first): the reference's form is
  // checked, and the fields are judged as they are.
  if (raw['template'] !== undefined) parseTemplateRef(raw['template']);
  if (raw['name'] === undefined) throw invalid('name', 'is required');
  if (typeof raw['name'] !== 'string' || !TASK_NAME_RE.test(raw['name'])) {
    throw invalid('name', `must match ${TASK_NAME_RULE} (got ${quote(raw['name'])})`);
  }
  const executor = raw['executor'] ?? 'docker';
  const spec = {
    name: raw['name'],
    executor,
    image: normalizeImage(raw, executor),
    command: normalizeArgv(raw['command'], 'command') ?? [],
    entrypoint: normalizeArgv(raw['entrypoint'], 'entrypoint'),
    env: normalizeEnv(raw),
    secret_env: normalizeEnvOf(raw['secret_env'], 'secret_env'),
    volumes: pickAlias(raw, 'volumes', 'datavolumes') ?? [],
    dependencies: raw['dependencies'] ?? [],
    restartable: raw['restartable'] ?? true,
    recoverable_exitcodes: raw['recoverable_exitcodes'] ?? [],
    max_failures: raw['max_failures'] ?? 3,
    retry_delay: raw['retry_delay'] ?? RETRY_DELAY_S,
    retry_max_delay: raw['retry_max_delay'] ?? Math.max(RETRY_MAX_DELAY_S, typeof raw['retry_delay'] === 'number' ? raw['retry_delay'] : 0),
    constraints: raw['constraints'] ?? {},
    cpu: raw['cpu'] ?? null,
    memory: raw['memory'] ?? null,
    cron: raw['cron'] ?? null,
    timezone: raw['timezone'] ?? (typeof raw['cron'] === 'string' ? options.defaultTimezone || 'UTC' : null),
    concurrency: raw['concurrency'] ?? 'forbid',
    starting_deadline: raw['starting_deadline'] ?? 300,
    schedule_at: raw['schedule_at'] ?? null,
    timeout: raw['timeout'] ?? null,
    ...(raw['files'] === undefined ? {} : { files: raw['files'] }),
    ...(raw['notify'] === undefined ? {} : { notify: raw['notify'] }),
    ...(raw['instance'] === undefined ? {} : { instance: normalizeInstance(raw['instance']) }),
  };
  const parsed = taskSpec.parse(spec, 'invalid_spec');
  checkRules(parsed);
  if (parsed.files !== undefined) checkFiles(parsed.files, options.fileLimits ?? DEFAULT_FILE_LIMITS);
  checkSchedule(parsed);
  return parsed;
}

/**
 * The bounds of the whole spec, before any field is read: nesting first (so that nothing below walks a hostile
 * depth), then its size as JSON (which bounds every list and string the schema then checks one by one).
 */
function checkSize(input: object, given?: string): void {
  if (nestsDeeper(input, Limits.jsonDepth)) {
    throw invalid('spec', `must not nest deeper than ${Limits.jsonDepth} levels`);
  }
  const json = given ?? JSON.stringify(input);
  const bytes = utf8Bytes(json);
  if (bytes > Limits.specBytes) {
    throw invalid('spec', `must be at most ${Limits.specBytes} bytes as JSON (got ${bytes})`);
  }
  // No process argument, variable or ledger text can hold a NUL character; JSON writes it as \u0000.
  const at = json.includes('\\u0000') ? pathOfNul(input) : null;
  if (at !== null) throw invalid(at, 'must not contain the NUL character (\\u0000)');
}

/** The field of the first string holding a NUL character (walked only when the JSON text suggests one). */
function pathOfNul(input: object): string | null {
  const stack: [unknown, string][] = [[input, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string' && v.includes('\u0000')) return path || 'spec';
    if (v === null || typeof v !== 'object') continue;
    for (const [k, child] of Object.entries(v)) {
      if (k.includes('\u0000')) return path || 'spec';
      stack.push([child, Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${shortKey(k)}` : shortKey(k)]);
    }
  }
  return null;
}

/** cron, timezone and schedule_at, checked the way the cron service will read them. */
function checkSchedule(spec: TaskSpec): void {
  if (spec.timezone !== null && spec.cron === null) throw invalid('timezone', 'only applies to a cron task (give cron too)');
  try {
    if (spec.timezone !== null) checkTimezone(spec.timezone);
    if (spec.cron !== null) parseCron(spec.cron, { name: spec.name, timezone: spec.timezone ?? 'UTC' });
  } catch (err) {
    if (isCronError(err)) throw new ValidationError('invalid_spec', err.message, { field: err.field });
    throw err;
  }
  if (spec.cron !== null && spec.concurrency === 'allow' && spec.name.length > 100 - CHILD_SUFFIX_LENGTH) {
    throw invalid('name', `must be at most ${100 - CHILD_SUFFIX_LENGTH} characters with concurrency "allow" (its runs are named <name>-<YYYYMMDDTHHMMSS>)`);
  }
  if (spec.schedule_at !== null) spec.schedule_at = parseInstant(spec.schedule_at);
}

const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** ISO 8601 with an offset (a time without one would depend on the server's zone) → UTC ISO string. */
function parseInstant(text: string): string {
  const m = INSTANT_RE.exec(text);
  const rule = `must be an ISO 8601 time with an offset, e.g. "2026-11-22T12:00:00Z" or "2026-11-22T13:00:00+01:00" (got ${quote(text)})`;
  if (!m) throw invalid('schedule_at', rule);
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const ms = Date.parse(text);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || Number.isNaN(ms)) {
    throw invalid('schedule_at', `${quote(text)} is not a date and time that exists`);
  }
  return new Date(ms).toISOString();
}

function normalizeImage(raw: Record<string, unknown>, executor: unknown): unknown {
  const image = pickAlias(raw, 'image', 'imageuuid');
  if (raw['imageuuid'] !== undefined) {
    if (typeof image !== 'string' || !image.startsWith('docker:') || image.length <= 'docker:'.length) {
      throw invalid('imageuuid', `must be "docker:IMAGE" (got ${quote(image)})`);
    }
    return image.slice('docker:'.length);
  }
  if (image === undefined || image === null) {
    if (executor === 'process') return null;
    throw invalid('image', 'is required (or imageuuid "docker:IMAGE"; only the process executor runs without one)');
  }
  return image;
}

/** A string command is run by a shell (`sh -c`), as job-scheduler's `cmd` was; a list is used as is. */
function normalizeArgv(value: unknown, field: string): unknown {
  if (value === undefined || value === null) return field === 'entrypoint' ? null : undefined;
  if (typeof value === 'string') return field === 'entrypoint' ? [value] : ['sh', '-c', value];
  return value;
}

/** `spot` defaults to true (job-scheduler's spot instances); anything but an object is left for the schema to refuse. */
function normalizeInstance(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return { spot: true, ...(value as Record<string, unknown>) };
}

function pickAlias(raw: Record<string, unknown>, field: string, alias: string): unknown {
  if (raw[field] !== undefined && raw[alias] !== undefined) {
    throw invalid(alias, `conflicts with ${field}: give one of them`);
  }
  return raw[field] ?? raw[alias];
}

/** `env: {K: V}`, job-scheduler's `env: ["K=V"]`, or Tangerine's `environment: [["K","V"]]`. */
function normalizeEnv(raw: Record<string, unknown>): unknown {
  const field = raw['env'] !== undefined ? 'env' : 'environment';
  return normalizeEnvOf(pickAlias(raw, 'env', 'environment'), field);
}

/** One environment in any of its forms, `field` naming it in errors: an object, or the value as it is when it is none. */
export function normalizeEnvOf(value: unknown, field: string): unknown {
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value)) {
    if (typeof value !== 'object') return value;
    // Numbers and booleans are written as they would be in a shell (Blanket's `"Frogs": 5`); the input stays as it was.
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
  }
  const env: Record<string, string> = {};
  value.forEach((item, i) => {
    if (typeof item === 'string') {
      const eq = item.indexOf('=');
      if (eq <= 0) throw invalid(`${field}[${i}]`, `must be "KEY=VALUE" (got ${quote(item)})`);
      env[item.slice(0, eq)] = item.slice(eq + 1);
    } else if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string') {
      env[item[0]] = item[1];
    } else {
      throw invalid(`${field}[${i}]`, `must be "KEY=VALUE" or ["KEY", "VALUE"] (got ${quote(item)})`);
    }
  });
  return env;
}

/** Rules a schema cannot say on its own. */
function checkRules(spec: TaskSpec): void {
  if (spec.retry_max_delay < spec.retry_delay) {
    throw invalid('retry_max_delay', `must be at least retry_delay (${spec.retry_delay}; got ${spec.retry_max_delay})`);
  }
  if (spec.executor === 'process' && spec.command.length === 0) {
    throw invalid('command', 'is required for the process executor');
  }
  for (const field of ['env', 'secret_env'] as const) {
    for (const key of Object.keys(spec[field])) {
      if (key.length > Limits.keyChars) throw invalid(`${field}.${shortKey(key)}`, `name must be at most ${Limits.keyChars} characters`);
      if (!ENV_KEY_RE.test(key)) throw invalid(`${field}.${shortKey(key)}`, 'name must match [A-Za-z_][A-Za-z0-9_.-]*');
    }
  }
  for (const key of Object.keys(spec.secret_env)) {
    if (Object.hasOwn(spec.env, key)) throw invalid(`secret_env.${shortKey(key)}`, 'is also in env: give it in one of them');
  }
  spec.volumes.forEach((v, i) => {
    if (!VOLUME_RE.test(v)) {
      throw invalid(`volumes[${i}]`, `must be "/host/path:/container/path[:ro|rw]" (got ${quote(v)})`);
    }
  });
  const seen = new Set<string>();
  spec.dependencies.forEach((d, i) => {
    if (d === spec.name) throw invalid(`dependencies[${i}]`, 'a task cannot depend on itself');
    if (seen.has(d)) throw invalid(`dependencies[${i}]`, `${quote(d)} is listed twice`);
    seen.add(d);
  });
  for (const key of Object.keys(spec.constraints)) {
    if (!LABEL_KEY_RE.test(key)) throw invalid(`constraints.${shortKey(key)}`, `label name must match ${LABEL_KEY_RULE}`);
  }
  if (Object.hasOwn(spec.constraints, TASK_LABEL)) {
    throw invalid(`constraints.${TASK_LABEL}`, `is the label of a task's own instance, set by Tangerine: give "instance" to run a task on one`);
  }
  const notified = new Set<string>();
  spec.notify?.forEach((s, i) => {
    if (notified.has(s)) throw invalid(`notify[${i}]`, `${quote(s)} is listed twice`);
    notified.add(s);
  });
}

/** The spec as the ledger stores it and every read shows it: each secret's name, with SECRET_SHOWN for its value. */
export function hideSecretValues(spec: TaskSpec): TaskSpec {
  const names = Object.keys(spec.secret_env);
  if (names.length === 0) return spec;
  return { ...spec, secret_env: Object.fromEntries(names.map((k) => [k, SECRET_SHOWN])) };
}

/** The parts of a volume spec, for the executors. */
export function parseVolume(volume: string): { host: string; container: string; readOnly: boolean } {
  const m = VOLUME_RE.exec(volume);
  if (!m) throw invalid('volumes', `must be "/host/path:/container/path[:ro|rw]" (got ${quote(volume)})`);
  return { host: m[1] ?? '', container: m[2] ?? '', readOnly: m[3] === 'ro' };
}
