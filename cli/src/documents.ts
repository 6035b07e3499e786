import { Limits, NAME_RE, NAME_RULE, ValidationError, nestsDeeper, quote } from '@tangerine/contracts';
import { parseAllDocuments } from 'yaml';

/** A template as `apply -f` reads it: `{kind: template, name, spec, description?}` (the spec is partial). */
export interface TemplateDocument {
  name: string;
  spec: Record<string, unknown>;
  description?: string;
}

/** One thing a file asks for, with where it sits in the file (`tasks.yaml, document 2`, `…, document 1 [3]`). */
export type Document =
  | { kind: 'task'; spec: Record<string, unknown>; where: string }
  | { kind: 'template'; template: TemplateDocument; where: string };

/**
 * Bounds on a file: 16 MiB holds 64 specs of the largest size (Limits.specBytes), or 10,000 ordinary ones; more
 * documents than a batch message takes ten times over is a mistake, not a plan.
 */
export const FileLimits = {
  bytes: 16 * 1024 * 1024,
  documents: 10 * Limits.specsPerMessage,
  /** YAML aliases expanded per document: a few are handy (`<<: *defaults`), thousands are a billion-laughs bomb. */
  aliases: 100,
} as const;

const TEMPLATE_FIELDS = ['kind', 'name', 'spec', 'description'];

function refuse(where: string, field: string, rule: string, code: 'invalid_spec' | 'invalid_json' = 'invalid_spec'): ValidationError {
  return new ValidationError(code, `${where}: ${field}: ${rule}`, { field });
}

/**
 * The documents of a JSON or YAML text, in order. A file holds one or many YAML documents (`---`); a document is a
 * task spec, a list of specs, or a template (`kind: template`); `kind: task` is allowed on a spec and removed. An
 * empty document is passed over. Throws a ValidationError naming the document and the field.
 */
export function parseDocuments(text: string, source: string): Document[] {
  if (Buffer.byteLength(text, 'utf8') > FileLimits.bytes) {
    throw refuse(source, 'file', `must be at most ${FileLimits.bytes} bytes`);
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [];
  // parseAllDocuments gives an EmptyStream (not an array) for a text with no document at all.
  const out: Document[] = [];
  list.forEach((doc, i) => {
    const where = list.length === 1 ? source : `${source}, document ${i + 1}`;
    const error = doc.errors[0];
    if (error) throw refuse(where, 'document', `is not valid YAML or JSON: ${error.message.split('\n')[0]}`, 'invalid_json');
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: FileLimits.aliases });
    } catch (err) {
      throw refuse(where, 'document', (err as Error).message, 'invalid_json');
    }
    if (value === null || value === undefined) return;
    if (nestsDeeper(value, Limits.jsonDepth)) throw refuse(where, 'document', `must nest at most ${Limits.jsonDepth} levels deep`);
    if (Array.isArray(value)) {
      value.forEach((item, j) => out.push(documentOf(item, `${where} [${j}]`)));
    } else {
      out.push(documentOf(value, where));
    }
    if (out.length > FileLimits.documents) throw refuse(source, 'file', `must hold at most ${FileLimits.documents} specs and templates`);
  });
  return out;
}

function documentOf(value: unknown, where: string): Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw refuse(where, 'document', `must be a task spec or a template, a mapping (got ${quote(value)})`);
  }
  const { kind, ...rest } = value as Record<string, unknown>;
  if (kind === undefined || kind === 'task') return { kind: 'task', spec: rest, where };
  if (kind !== 'template') throw refuse(where, 'kind', `must be "task" or "template" (got ${quote(kind)})`);
  for (const key of Object.keys(value)) {
    if (!TEMPLATE_FIELDS.includes(key)) throw refuse(where, key, `is not a field of a template (its fields: ${TEMPLATE_FIELDS.join(', ')})`);
  }
  const { name, spec, description } = rest;
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw refuse(where, 'name', `a template's name must match ${NAME_RULE} (got ${quote(name)})`);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw refuse(where, 'spec', `must be a mapping: the template's fields of a task spec (got ${quote(spec)})`);
  if (description !== undefined && typeof description !== 'string') throw refuse(where, 'description', `must be text (got ${quote(description)})`);
  return { kind: 'template', where, template: { name, spec: spec as Record<string, unknown>, ...(description !== undefined ? { description } : {}) } };
}
