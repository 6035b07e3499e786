import { Limits, ValidationError, nestsDeeper } from '@tangerine/contracts';
import { parseAllDocuments } from 'yaml';

/** A template document, as `{kind: template, name, spec, description?}` gives it (checked by the templates' own rules). */
export interface TemplateDocument {
  name: unknown;
  spec: unknown;
  description?: unknown;
}

/** What a body held: task specs (not yet checked) and template definitions, each with its place in the body. */
export interface Documents {
  tasks: { at: string; spec: unknown }[];
  templates: { at: string; template: TemplateDocument }[];
}

/** Documents and specs in one body: one submission at most takes this many, as a list on tasks.submit does. */
const MAX_ITEMS = Limits.specsPerMessage;

function invalid(field: string, rule: string): ValidationError {
  return new ValidationError('invalid_spec', `${field}: ${rule}`, { field });
}

/**
 * A YAML text: one document or many (`---`). Each document is a task spec, a list of specs, or a template
 * (`kind: template`); `kind: task` is allowed and dropped. A YAML fault names its line and column.
 */
export function parseYamlDocuments(text: string): Documents {
  // Aliases are bounded (a "billion laughs" document expands each one): 100 is the yaml package's own default.
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      // The yaml package's first line says what and where: "… at line 2, column 3:".
      const what = err.message.split('\n')[0]!.replace(/:$/, '').slice(0, 300);
      throw new ValidationError('invalid_request', `body: is not valid YAML: ${what}`, { field: 'body' });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new ValidationError('invalid_request', `body: is not valid YAML: ${(e as Error).message.slice(0, 200)}`, { field: 'body' });
    }
    if (value === null || value === undefined) continue;
    if (values.length >= MAX_ITEMS) throw invalid('body', `may hold at most ${MAX_ITEMS} documents`);
    values.push(value);
  }
  if (values.length === 0) throw invalid('body', 'holds no document');
  return readDocuments(values.length === 1 ? values[0] : values, values.length === 1 ? 'single' : 'documents');
}

/** A JSON body: one spec (or template), or a list of them. */
export function parseJsonDocuments(body: unknown): Documents {
  return readDocuments(body, 'single');
}

/**
 * `shape`: `single` for one value (a spec, or a list of specs: a list's items are `[i]`); `documents` for the values
 * of several YAML documents (each `[i]`, a list inside one `[i][j]`).
 */
function readDocuments(value: unknown, shape: 'single' | 'documents'): Documents {
  if (nestsDeeper(value, Limits.jsonDepth + 2)) throw invalid('body', `must not nest deeper than ${Limits.jsonDepth} levels`);
  const out: Documents = { tasks: [], templates: [] };
  const add = (item: unknown, at: string): void => {
    if (out.tasks.length + out.templates.length >= MAX_ITEMS) throw invalid('body', `may hold at most ${MAX_ITEMS} specs; send several requests`);
    one(item, at, out);
  };
  if (shape === 'single' && !Array.isArray(value)) {
    one(value, '', out);
    return out;
  }
  if (!Array.isArray(value)) throw invalid('body', 'must be a spec or a list of specs');
  if (value.length === 0) throw invalid('body', 'holds no spec');
  for (const [i, doc] of value.entries()) {
    if (shape === 'documents' && Array.isArray(doc)) {
      for (const [j, item] of doc.entries()) add(item, `[${i}][${j}]`);
    } else {
      add(doc, `[${i}]`);
    }
  }
  return out;
}

function one(item: unknown, at: string, out: Documents): void {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw invalid(at || 'spec', `must be an object (a task spec, or {kind: template, name, spec})`);
  }
  const { kind, ...rest } = item as Record<string, unknown>;
  const field = (f: string): string => (at ? `${at}.${f}` : f);
  if (kind === undefined || kind === 'task') {
    out.tasks.push({ at, spec: rest });
  } else if (kind === 'template') {
    for (const key of Object.keys(rest)) {
      if (!['name', 'spec', 'description'].includes(key)) throw invalid(field(key), 'unknown field of a template (allowed: kind, name, spec, description)');
    }
    if (rest['name'] === undefined) throw invalid(field('name'), 'is required');
    if (rest['spec'] === undefined) throw invalid(field('spec'), 'is required');
    out.templates.push({ at, template: rest as unknown as TemplateDocument });
  } else {
    throw invalid(field('kind'), `must be task or template (got ${JSON.stringify(kind)?.slice(0, 40) ?? String(kind)})`);
  }
}
