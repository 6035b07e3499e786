import { decodeText, redactPayload } from '@tangerine/bus';
import {
  Limits, NotFoundError, Subjects, ValidationError, applyTemplate, checkVolumesAllowed, isTangerineError, isValidationError, type TangerineError,
  nestsDeeper, parseTaskSpec, parseTemplateDefinition, precheckSpec, quote, type CheckedTemplate, type ParseOptions, type Rejection,
  type TaskSpec, type TemplateRef,
} from '@tangerine/contracts';
import type { Resolution, Submission } from '@tangerine/ledger';

/** `key`: the message's stream sequence, plus `:<index>` for a spec of a list; it makes rejection ids unique. */
export type Parsed =
  | { kind: 'submit'; seq: number; key: string; index: number | null; submission: Submission; text: string }
  | { kind: 'cancel'; seq: number; key: string; name: string; text: string }
  | { kind: 'invalid'; seq: number; key: string; rejection: Rejection }
  /** A spec that names a template: checked as far as it can be, and merged (mergeTemplated) once the template is read. */
  | { kind: 'templated'; seq: number; key: string; index: number | null; name: string; ref: TemplateRef; value: Record<string, unknown>; text: string }
  | { kind: 'put'; seq: number; key: string; template: CheckedTemplate; text: string };

export interface CommandOptions extends ParseOptions {
  /** Host path prefixes a bind mount must be under (VOLUMES_ALLOWED); none when not given. */
  volumesAllowed?: readonly string[];
}

/**
 * Reads one command message: a spec, a JSON list of specs (each judged on its own), or a cancel. Bad input becomes
 * a rejection that names the field and the rule. Pure, and never throws: whatever the bytes, a verdict.
 */
export function parseCommand(subject: string, seq: number, data: Uint8Array, now: Date, options: CommandOptions = {}): Parsed[] {
  const text = decodeText(data);
  const refuse = (err: TangerineError): Parsed[] => [invalid(seq, `${seq}`, null, text, null, err, now)];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // A text that names secret_env is not quoted: what it holds cannot be told apart from the rest.
    const shown = text.includes('secret_env') ? '' : ` (${quote(text, 60)})`;
    return refuse(new ValidationError('invalid_json', `payload: is not valid JSON${shown}`, { field: 'payload' }));
  }
  if (subject === Subjects.submit.subject && Array.isArray(value)) {
    // Before each spec is written out again as its own text (a spec alone is checked by parseTaskSpec): the list
    // form adds one level to its specs.
    if (nestsDeeper(value, Limits.jsonDepth + 1)) {
      return refuse(new ValidationError('invalid_spec', `spec: must not nest deeper than ${Limits.jsonDepth} levels`, { field: 'spec' }));
    }
    if (value.length > Limits.specsPerMessage) {
      return refuse(new ValidationError('invalid_spec',
        `spec: a list may hold at most ${Limits.specsPerMessage} specs (got ${value.length}); send several messages`, { field: 'spec' }));
    }
    return value.map((item, i) => parseOne(subject, seq, i, item, JSON.stringify(item) ?? 'null', now, options));
  }
  return [parseOne(subject, seq, null, value, text, now, options)];
}

function parseOne(subject: string, seq: number, index: number | null, value: unknown, text: string, now: Date, options: CommandOptions): Parsed {
  const key = index === null ? `${seq}` : `${seq}:${index}`;
  const name = typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string'
    ? (value as { name: string }).name.slice(0, 100) : null;
  try {
    if (subject === Subjects.cancel.subject) return { kind: 'cancel', seq, key, name: parseCancel(value), text };
    if (subject === Subjects.templatePut.subject) return { kind: 'put', seq, key, template: parseTemplate(value, options), text };
    const checked = precheckSpec(value, { ...options, json: text });
    if (checked.template !== null) {
      return { kind: 'templated', seq, key, index, name: name ?? '', ref: checked.template, value: value as Record<string, unknown>, text };
    }
    const spec: TaskSpec = checked.spec;
    checkVolumesAllowed(spec.volumes, options.volumesAllowed ?? []);
    return { kind: 'submit', seq, key, index, submission: { seq, key, spec }, text };
  } catch (err) {
    // Anything else thrown here is a bug of validation: still a verdict for this spec, never a stalled batch.
    const e = isTangerineError(err) ? err : new ValidationError('invalid_spec', `spec: could not be read (${(err as Error)?.name ?? 'error'})`, { field: 'spec' });
    return invalid(seq, key, index, text, name, e, now);
  }
}

/** A template definition, its bind mounts judged as a task's would be (an error names them under `spec.`). */
function parseTemplate(value: unknown, options: CommandOptions): CheckedTemplate {
  const template = parseTemplateDefinition(value, options);
  const volumes = template.spec['volumes'] ?? template.spec['datavolumes'];
  try {
    if (Array.isArray(volumes)) checkVolumesAllowed(volumes as string[], options.volumesAllowed ?? []);
  } catch (err) {
    if (!isValidationError(err)) throw err;
    throw new ValidationError('invalid_template', `spec.${err.message}`, { field: `spec.${err.field ?? 'volumes'}` });
  }
  return template;
}

/**
 * A templated spec once its template is read: merged by the rule of applyTemplate, then judged as any spec. An
 * unknown template, or an unknown version of one, is a rejection naming `template`. Pure, and never throws.
 */
export function mergeTemplated(p: Extract<Parsed, { kind: 'templated' }>, resolution: Resolution | undefined, now: Date, options: CommandOptions = {}): Parsed {
  try {
    const found = resolution?.found;
    if (!found) {
      const latest = resolution?.latest ?? null;
      const message = p.ref.version === null || latest === null
        ? `template: no template named ${quote(p.ref.name)}`
        : `template: template ${quote(p.ref.name)} has no version ${p.ref.version} (its latest is ${latest})`;
      throw new NotFoundError(message, { field: 'template', code: 'template_not_found' });
    }
    const spec = parseTaskSpec(applyTemplate(found.spec, p.value), options);
    checkVolumesAllowed(spec.volumes, options.volumesAllowed ?? []);
    const submission: Submission = { seq: p.seq, key: p.key, spec, template: { name: found.name, version: found.version } };
    return { kind: 'submit', seq: p.seq, key: p.key, index: p.index, submission, text: p.text };
  } catch (err) {
    const e = isTangerineError(err) ? err : new ValidationError('invalid_spec', `spec: could not be read (${(err as Error)?.name ?? 'error'})`, { field: 'spec' });
    return invalid(p.seq, p.key, p.index, p.text, p.name || null, e, now);
  }
}

function parseCancel(value: unknown): string {
  const name = (value as { name?: unknown } | null)?.name;
  if (typeof value !== 'object' || value === null || typeof name !== 'string') {
    throw new ValidationError('invalid_request', 'name: is required (send {"name": "<task>"})', { field: 'name' });
  }
  return Subjects.cancel.parse(value).name;
}

/**
 * A rejection; the payload is shown as submitted with its env and secret_env values hidden (as a dead letter shows
 * it), shortened, and for bytes decoded first (whole: a secret is found only in a payload that parses).
 */
export function rejection(
  name: string | null, err: TangerineError, payload: string | Uint8Array, now: Date, where: { seq: number | null; index: number | null },
): Rejection {
  const text = typeof payload === 'string' ? payload : decodeText(payload);
  return {
    name,
    code: err.code,
    field: err.field ?? null,
    reason: err.message,
    payload: redactPayload(text, Limits.quotedPayloadChars),
    seq: where.seq,
    index: where.index,
    at: now.toISOString(),
  };
}

function invalid(seq: number, key: string, index: number | null, text: string, name: string | null, err: TangerineError, now: Date): Parsed {
  return { kind: 'invalid', seq, key, rejection: rejection(name, err, text, now, { seq, index }) };
}
