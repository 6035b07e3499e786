import { Type, type Static } from '@sinclair/typebox';
import { ValidationError, isValidationError } from './errors.js';
import { Limits, nestsDeeper, utf8Bytes } from './limits.js';
import { NAME_PATTERN, NAME_RE, NAME_RULE } from './names.js';
import {
  ACCEPTED_FIELDS, SECRET_SHOWN, normalizeEnvOf, parseTaskSpec, parseTemplateRef, type ParseOptions, type TaskSpec, type TemplateRef,
} from './spec.js';
import { quote, shortKey } from './validate.js';

/**
 * Task templates: a named, versioned partial spec stored once (`templates.put`), which a task names with
 * `"template": "name"` (the latest version) or `"name:3"`, and whose fields it overrides. The merge rule is one
 * function, applyTemplate; intake applies it before parseTaskSpec, so a merged spec is judged as any other.
 */

const TemplateName = Type.String({ pattern: NAME_PATTERN, description: 'a template name' });
const Version = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const Timestamp = Type.String({ description: 'ISO 8601 time' });

/** What `templates.put` carries: `{name, spec, description?}`; `spec` is a partial task spec without `name`. */
export const TemplateDefinition = Type.Object(
  {
    /** `[A-Za-z0-9][A-Za-z0-9_-]{0,99}`, as a task's. */
    name: TemplateName,
    /** For people, at most Limits.templateDescriptionChars characters. */
    description: Type.Optional(Type.Union([Type.String({ maxLength: Limits.templateDescriptionChars }), Type.Null()])),
    /** The fields a task gets unless it gives its own: any field of a task spec but `name` and `template`. */
    spec: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type TemplateDefinition = Static<typeof TemplateDefinition>;

/** One version of a template, as `templates.get` and `templates.list` show it (secret values as `"(secret)"`). */
export const TemplateView = Type.Object({
  name: TemplateName,
  version: Version,
  description: Type.Union([Type.String(), Type.Null()]),
  spec: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
});
export type TemplateView = Static<typeof TemplateView>;

/** `templates.get`: one version of a template, the latest when none is named. */
export const TemplateGetRequest = Type.Object({ name: TemplateName, version: Type.Optional(Version) }, { additionalProperties: false });
export type TemplateGetRequest = Static<typeof TemplateGetRequest>;

/** `templates.list`: the latest version of each template, by name, a page at a time. */
export const TemplateListRequest = Type.Object(
  {
    /** Names sorting after this one: pass the reply's `next`. */
    after: Type.Optional(Type.String({ maxLength: 200 })),
    /** At most Limits.templatesPerPage are returned, whatever is asked. */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
export type TemplateListRequest = Static<typeof TemplateListRequest>;

export const TemplateList = Type.Object({ templates: Type.Array(TemplateView), next: Type.Union([Type.String(), Type.Null()]) });
export type TemplateList = Static<typeof TemplateList>;

/**
 * Published on `templates.events.<name>` once intake handled a `templates.put`: the version that now holds its
 * content, and whether the put made it (`created`) or found it there (the same content as the latest version, a
 * redelivery, or a put older in stream order than the latest). Dedupe id `template:<seq>`.
 */
export const TemplateStored = Type.Object({
  name: TemplateName,
  version: Version,
  created: Type.Boolean(),
  /** The stream sequence of the put (what its publish ack said), to match it; null when not known. */
  seq: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  at: Timestamp,
});
export type TemplateStored = Static<typeof TemplateStored>;

/** A template's spec may give any field a task may, but these. */
const NOT_IN_TEMPLATE = new Set(['name', 'template']);

/** The map fields merged key by key, each with the forms it may take (the first is what the merge writes). */
const MAPS = [['env', 'environment'], ['secret_env'], ['constraints']] as const;
/** Fields with another form: a side that gives one form replaces the other side's, whichever form it used. */
const ALIASES: readonly (readonly string[])[] = [['image', 'imageuuid'], ['volumes', 'datavolumes'], ...MAPS];

/**
 * A checked template definition: its spec as stored, with `secret_env` as an object, and its secret values apart.
 * `spec.secret_env` holds each name with SECRET_SHOWN, so that what `templates.get` shows and what the ledger's
 * `spec` column holds never has a value; `secrets` holds the values.
 */
export interface CheckedTemplate {
  name: string;
  description: string | null;
  spec: Record<string, unknown>;
  secrets: Record<string, string>;
}

function invalid(field: string, rule: string): ValidationError {
  return new ValidationError('invalid_template', `${field}: ${rule}`, { field });
}

/**
 * Checks a `templates.put` payload. Its spec is judged as a task's would be, with the fields it leaves to the task
 * filled by placeholders (a name, an image, a command for the process executor, a cron for a zone): each field it
 * gives must be one a task may give, with a value a task could have. An error names the field under `spec.`
 * (`spec.image: must be a string`). Pure; `kind: "template"` (a YAML document's) is allowed and dropped.
 */
export function parseTemplateDefinition(input: unknown, options: ParseOptions = {}): CheckedTemplate {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('template', `must be a JSON object {"name", "spec", "description"?} (got ${quote(input)})`);
  }
  if (nestsDeeper(input, Limits.jsonDepth + 1)) throw invalid('spec', `must not nest deeper than ${Limits.jsonDepth} levels`);
  const { kind, ...raw } = input as Record<string, unknown>;
  if (kind !== undefined && kind !== 'template') throw invalid('kind', `must be "template" when given (got ${quote(kind)})`);
  for (const key of Object.keys(raw)) {
    if (key !== 'name' && key !== 'spec' && key !== 'description') throw invalid(shortKey(key), 'unknown field (allowed: name, description, spec)');
  }
  if (raw['name'] === undefined) throw invalid('name', 'is required');
  if (typeof raw['name'] !== 'string' || !NAME_RE.test(raw['name'])) throw invalid('name', `must match ${NAME_RULE} (got ${quote(raw['name'])})`);
  const description = raw['description'] ?? null;
  if (description !== null && typeof description !== 'string') throw invalid('description', `must be a string (got ${quote(description)})`);
  if (description !== null && description.length > Limits.templateDescriptionChars) {
    throw invalid('description', `must be at most ${Limits.templateDescriptionChars} characters`);
  }
  const spec = raw['spec'];
  if (spec === undefined) throw invalid('spec', 'is required (the fields a task gets unless it gives its own)');
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalid('spec', `must be an object (got ${quote(spec)})`);
  const fields = spec as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (NOT_IN_TEMPLATE.has(key)) throw invalid(`spec.${key}`, key === 'name' ? 'a template gives no name: each task gives its own' : 'a template cannot name another template');
    if (!(ACCEPTED_FIELDS as readonly string[]).includes(key)) {
      throw invalid(`spec.${shortKey(key)}`, `unknown field (allowed: ${ACCEPTED_FIELDS.filter((f) => !NOT_IN_TEMPLATE.has(f)).join(', ')})`);
    }
  }
  const bytes = utf8Bytes(JSON.stringify(fields));
  if (bytes > Limits.specBytes) throw invalid('spec', `must be at most ${Limits.specBytes} bytes as JSON (got ${bytes})`);
  probe(fields, options);
  const secrets = secretsOf(fields);
  const stored = secrets === null ? { ...fields } : { ...fields, secret_env: Object.fromEntries(Object.keys(secrets).map((k) => [k, SECRET_SHOWN])) };
  return { name: raw['name'], description, spec: stored, secrets: secrets ?? {} };
}

const PROBE_NAME = 'template';

/** The spec checked as a task's, its gaps filled; an error is renamed under `spec.`. */
function probe(fields: Record<string, unknown>, options: ParseOptions): TaskSpec {
  const fill: Record<string, unknown> = { name: PROBE_NAME };
  const executor = fields['executor'];
  if (fields['image'] == null && fields['imageuuid'] == null && executor !== 'process') fill['image'] = 'template-probe';
  if (executor === 'process' && fields['command'] == null) fill['command'] = ['true'];
  if (fields['timezone'] != null && fields['cron'] == null) fill['cron'] = '0 0 * * *';
  try {
    return parseTaskSpec({ ...fields, ...fill }, { ...(options.defaultTimezone ? { defaultTimezone: options.defaultTimezone } : {}) });
  } catch (err) {
    if (!isValidationError(err)) throw err;
    const field = err.field === undefined || err.field === 'spec' ? 'spec' : `spec.${err.field}`;
    const message = err.message.startsWith(`${err.field}:`) ? `${field}${err.message.slice(String(err.field).length)}` : `${field}: ${err.message}`;
    throw new ValidationError('invalid_template', message, { field });
  }
}

/** A template's secret values as an object (any form `secret_env` takes), or null when it gives none. */
function secretsOf(fields: Record<string, unknown>): Record<string, string> | null {
  if (fields['secret_env'] === undefined || fields['secret_env'] === null) return null;
  // Checked by the probe: an object of strings (numbers and booleans written as strings).
  return normalizeEnvOf(fields['secret_env'], 'secret_env') as Record<string, string>;
}

/**
 * The spec a task runs with: the template's fields, overridden by the task's. The merge rule:
 * - `env`, `secret_env` and `constraints` are merged key by key, the task's value winning; either side may give `env`
 *   in any of its forms (`{"K": "V"}`, `["K=V"]`, `environment: [["K", "V"]]`). A key the task sets to null is
 *   removed, and a map the task sets to null (`"env": null`) removes the template's whole map.
 * - Every other field the task gives replaces the template's, whole (`command`, `volumes`, `dependencies` are not
 *   appended to); a field the task sets to null removes the template's, so the field takes its default (`"cron":
 *   null` makes a task of a cron template run once). A field given in one form replaces the other side's in either
 *   form (`imageuuid` replaces `image`).
 * - The task must give `name`; `template` itself is not in the result.
 * Pure, and the inputs are not changed. A map that is not an object on either side (a malformed one) is not merged:
 * the task's replaces the template's, and parseTaskSpec then names its fault.
 */
export function applyTemplate(template: Readonly<Record<string, unknown>>, spec: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...template };
  const given = (key: string): boolean => spec[key] !== undefined;
  for (const group of ALIASES) {
    if (group.some(given)) for (const key of group) delete out[key];
  }
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'template' || value === undefined) continue;
    out[key] = value;
  }
  for (const group of MAPS) {
    const taskKey = group.find(given);
    const templateKey = group.find((k) => template[k] !== undefined);
    if (taskKey === undefined || templateKey === undefined) continue;
    const theirs = spec[taskKey];
    if (theirs === null) {
      delete out[taskKey];
      continue;
    }
    const base = mapOf(template[templateKey], templateKey);
    const over = mapOf(theirs, taskKey);
    if (base === null || over === null) continue; // the task's, as it is: parseTaskSpec names its fault
    const merged: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    delete out[taskKey];
    out[group[0]] = merged;
  }
  return out;
}

/** One side's map as an object, or null when it is not one (nor a list form of env). */
function mapOf(value: unknown, field: string): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object') return null;
  if (field === 'constraints') return Array.isArray(value) ? null : value as Record<string, unknown>;
  let normalized: unknown;
  try {
    normalized = normalizeEnvOf(value, field);
  } catch (err) {
    if (isValidationError(err)) return null;
    throw err;
  }
  return typeof normalized === 'object' && normalized !== null && !Array.isArray(normalized) ? normalized as Record<string, unknown> : null;
}

/** What a client can judge of a submitted spec before intake has it. */
export type Precheck = { spec: TaskSpec; template: null } | { spec: null; template: TemplateRef };

/**
 * The verdict the CLI and the HTTP API give at once, before publishing: for a spec that names no template,
 * parseTaskSpec's (the one intake gives); for one that names a template, what can be judged without it: its form,
 * its size, `name`, `template`'s form and each field being one a spec may have. The rest is intake's, once merged.
 */
export function precheckSpec(input: unknown, options: ParseOptions = {}): Precheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || (input as { template?: unknown }).template === undefined) {
    return { spec: parseTaskSpec(input, options), template: null };
  }
  const raw = input as Record<string, unknown>;
  const spec = (field: string, rule: string) => new ValidationError('invalid_spec', `${field}: ${rule}`, { field });
  if (nestsDeeper(raw, Limits.jsonDepth)) throw spec('spec', `must not nest deeper than ${Limits.jsonDepth} levels`);
  const bytes = options.json !== undefined ? utf8Bytes(options.json) : utf8Bytes(JSON.stringify(raw));
  if (bytes > Limits.specBytes) throw spec('spec', `must be at most ${Limits.specBytes} bytes as JSON (got ${bytes})`);
  for (const key of Object.keys(raw)) {
    if (!(ACCEPTED_FIELDS as readonly string[]).includes(key)) throw spec(shortKey(key), `unknown field (allowed: ${ACCEPTED_FIELDS.join(', ')})`);
  }
  if (raw['name'] === undefined) throw spec('name', 'is required (a template gives every field but the name)');
  if (typeof raw['name'] !== 'string' || !NAME_RE.test(raw['name'])) throw spec('name', `must match ${NAME_RULE} (got ${quote(raw['name'])})`);
  return { spec: null, template: parseTemplateRef(raw['template']) };
}
