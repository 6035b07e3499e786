import {
  ConflictError, Limits, NotFoundError, ValidationError, applyTemplate, isFinished, isTangerineError, parseTaskSpec, precheckSpec, utf8Bytes,
  type ErrorJSON, type TaskSpec, type TemplateView,
} from '@tangerine/contracts';
import { getTemplate, readStates } from '@tangerine/ledger';
import type { HttpDeps } from '../deps.js';
import { parseJsonDocuments, parseYamlDocuments, type Documents } from '../documents.js';
import { YamlText } from '../yaml-body.js';

/** One bad spec of a body: where it sits (`[2]`, or '' for a body of one spec) and its error. */
export interface SpecFault extends ErrorJSON {
  at: string;
}

/** A body with bad specs: every one of them, by its place; the error names the first, its message all. */
export class SpecsRefused extends ValidationError {
  constructor(readonly faults: SpecFault[]) {
    const first = faults[0]!;
    const message = faults.map((f) => (f.at && !f.message.startsWith(f.at) ? `${f.at}.${f.message}` : f.message)).join('; ');
    super(first.code === 'invalid_request' ? 'invalid_request' : 'invalid_spec', message.slice(0, 4000), { field: at(first.at, first.field) });
  }
}

function at(where: string, field: string | undefined): string {
  if (!where) return field ?? 'spec';
  return field && field !== 'spec' ? `${where}.${field}` : where;
}

/** The body's documents: a YAML text, or a JSON spec or list. */
export function documentsOf(body: unknown): Documents {
  if (body instanceof YamlText) return parseYamlDocuments(body.text);
  if (body === undefined || body === null) throw new ValidationError('invalid_spec', 'body: a task spec (or a list of them) is required', { field: 'body' });
  return parseJsonDocuments(body);
}

/**
 * Every spec checked as intake checks it (parseTaskSpec), then the ledger asked whether any names a task that is
 * there and not finished: nothing is published until all of them pass. Returns the specs as given (intake parses
 * them again: it is the authority; what is published is what the user wrote, aliases and all).
 */
export async function checkSpecs(deps: Pick<HttpDeps, 'ledger'> & Partial<Pick<HttpDeps, 'states'>>, docs: Documents): Promise<{ specs: unknown[]; parsed: TaskSpec[] }> {
  if (docs.templates.length > 0) {
    const t = docs.templates[0]!;
    throw new ValidationError('invalid_spec', `${t.at ? `${t.at}.` : ''}kind: a template is not a task: put templates with the templates API (templates.put, or \`tangerine apply -f\`)`, { field: `${t.at ? `${t.at}.` : ''}kind` });
  }
  if (docs.tasks.length === 0) throw new ValidationError('invalid_spec', 'body: holds no task spec', { field: 'body' });
  const faults: SpecFault[] = [];
  const parsed: TaskSpec[] = [];
  const templates = new Map<string, Promise<TemplateView | null>>();
  for (const { at: where, spec } of docs.tasks) {
    try {
      parsed.push(await checkOne(deps, spec, templates));
    } catch (err) {
      if (!isTangerineError(err)) throw err;
      // A body of one spec fails as its spec did (a template not found is 404, not 400).
      if (docs.tasks.length === 1) throw err;
      faults.push({ at: where, ...err.toJSON() });
    }
  }
  if (faults.length > 0) throw new SpecsRefused(faults);
  const names = parsed.map((s) => s.name);
  const states = await (deps.states ? deps.states.states(names) : readStates(deps.ledger, names));
  const busy = parsed.map((s, i) => ({ s, i })).filter(({ s }) => { const st = states.get(s.name); return st !== undefined && !isFinished(st); });
  if (busy.length > 0) {
    const { i } = busy[0]!;
    const where = docs.tasks[i]!.at;
    const names = busy.map((b) => `"${b.s.name}" (${states.get(b.s.name)})`).join(', ').slice(0, 2000);
    throw new ConflictError('duplicate_task', `${where ? `${where}.` : ''}name: a task exists and is not finished: ${names}; cancel it, or wait until it ends`,
      { field: `${where ? `${where}.` : ''}name` });
  }
  return { specs: docs.tasks.map((t) => t.spec), parsed };
}

/**
 * One spec as intake will judge it: a spec that names a template is merged with it first (read once per body and
 * template; its secret values shown as "(secret)" are still values), so an unknown template or a merged spec that
 * breaks a rule is refused here, at once. Intake merges again with the version it reads: the authority.
 */
async function checkOne(deps: Pick<HttpDeps, 'ledger'>, spec: unknown, templates: Map<string, Promise<TemplateView | null>>): Promise<TaskSpec> {
  const pre = precheckSpec(spec);
  if (pre.spec) return pre.spec;
  const ref = pre.template;
  const key = `${ref.name}:${ref.version ?? ''}`;
  if (!templates.has(key)) templates.set(key, getTemplate(deps.ledger, ref.name, ref.version ?? undefined));
  const found = await templates.get(key)!;
  if (!found) {
    const message = ref.version === null ? `template: no template named "${ref.name}"` : `template: template "${ref.name}" has no version ${ref.version}`;
    throw new NotFoundError(message, { field: 'template', code: 'template_not_found' });
  }
  return parseTaskSpec(applyTemplate(found.spec, spec as Record<string, unknown>));
}

/**
 * The specs in as few messages as the bus takes: lists of at most Limits.specsPerMessage specs and `budget` bytes
 * (a spec alone when it is one). Intake judges the specs of a list each on its own.
 */
export function messagesOf(specs: readonly unknown[], budget: number): unknown[] {
  if (specs.length === 1) return [specs[0]];
  const out: unknown[][] = [];
  let current: unknown[] = [];
  let bytes = 2;
  for (const spec of specs) {
    const size = utf8Bytes(JSON.stringify(spec)) + 1;
    if (current.length > 0 && (current.length >= Limits.specsPerMessage || bytes + size > budget)) {
      out.push(current);
      current = [];
      bytes = 2;
    }
    current.push(spec);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out.map((m) => (m.length === 1 ? m[0] : m));
}
