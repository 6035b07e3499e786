import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type ValueError, ValueErrorType } from '@sinclair/typebox/compiler';
import { Errors } from '@sinclair/typebox/errors';
import { ValidationError, type ValidationCode } from './errors.js';

/** A compiled schema: `parse` returns the typed value or throws a ValidationError naming the field and the rule. */
export interface Validator<T> {
  check(value: unknown): value is T;
  parse(value: unknown, code?: ValidationCode): T;
}

export function compile<S extends TSchema>(schema: S): Validator<Static<S>> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    check: (value): value is Static<S> => compiled.Check(value),
    parse(value, code = 'invalid_request') {
      if (compiled.Check(value)) return value;
      const first = narrow(compiled.Errors(value).First());
      const field = first ? fieldOf(first.path) : 'value';
      throw new ValidationError(code, `${field}: ${first ? describe(first) : 'is invalid'}`, { field });
    },
  };
}

/**
 * A union's error says only "must be one of …". When the value has the JSON type of exactly one of its variants (a
 * list where `a list, or null` is asked), the error inside that variant says more: `entrypoint[0]: must be at most
 * 32768 characters` rather than `entrypoint: must be a list, or null`.
 */
function narrow(error: ValueError | undefined): ValueError | undefined {
  if (!error || error.type !== ValueErrorType.Union) return error;
  const type = jsonTypeOf(error.value);
  const variants = ((error.schema as { anyOf?: TSchema[] }).anyOf ?? []).filter((v) => jsonType(v) === type);
  if (variants.length !== 1) return error;
  const inner = Errors(variants[0]!, error.value).First();
  // For a number or a string the union's own rule says it all (`a number > 0 and <= 1024, or null`), but for a length.
  if (!inner || (type !== 'array' && type !== 'object' && inner.type !== ValueErrorType.StringMaxLength)) return error;
  return narrow({ ...inner, path: `${error.path}${inner.path}` });
}

function jsonType(schema: TSchema): string | undefined {
  const t = (schema as { type?: unknown }).type;
  return t === 'integer' ? 'number' : typeof t === 'string' ? t : undefined;
}

function jsonTypeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value;
}

/** `/runs/0/host` becomes `runs[0].host`, the way a user would write it. */
export function fieldOf(path: string): string {
  // JSON Pointer escapes: ~1 is '/', ~0 is '~'.
  const parts = path.split('/').filter((p) => p.length > 0).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (parts.length === 0) return 'value';
  return parts
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${shortKey(p)}`))
    .join('');
}

/** A key of a stranger's object, as a field name: cut, so a key of a megabyte cannot make an error that long. */
export function shortKey(key: string, max = 64): string {
  return key.length > max ? `${key.slice(0, max - 1)}…` : key;
}

function describe(error: ValueError): string {
  const s = error.schema as Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown field';
    case ValueErrorType.StringPattern:
      return `must match ${String(s['pattern'])} (got ${quote(error.value)})`;
    case ValueErrorType.StringMinLength:
      return `must be at least ${String(s['minLength'])} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${String(s['maxLength'])} characters`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be >= ${String(s['minimum'])} (got ${quote(error.value)})`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be <= ${String(s['maximum'])} (got ${quote(error.value)})`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${String(s['maxItems'])} items`;
    case ValueErrorType.ObjectMaxProperties:
      return `must have at most ${String(s['maxProperties'])} entries`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${String(s['minItems'])} items`;
    case ValueErrorType.Union:
      return `must be ${unionRule(s)} (got ${quote(error.value)})`;
    case ValueErrorType.Integer:
      return `must be an integer (got ${quote(error.value)})`;
    case ValueErrorType.Number:
      return `must be a number (got ${quote(error.value)})`;
    case ValueErrorType.String:
      return `must be a string (got ${quote(error.value)})`;
    case ValueErrorType.Boolean:
      return `must be true or false (got ${quote(error.value)})`;
    case ValueErrorType.Array:
      return `must be a list (got ${quote(error.value)})`;
    case ValueErrorType.Object:
      return `must be an object (got ${quote(error.value)})`;
    default:
      return error.message.charAt(0).toLowerCase() + error.message.slice(1);
  }
}

/** The rule of a union, as a person would say it: `a number > 0 and <= 1024, or null`. */
function unionRule(schema: Record<string, unknown>): string {
  if (typeof schema['description'] === 'string') return `one of ${schema['description']}`;
  const variants = (schema['anyOf'] as Record<string, unknown>[] | undefined) ?? [];
  const nullable = variants.some((v) => v['type'] === 'null');
  const rules = variants.filter((v) => v['type'] !== 'null').map(variantRule);
  if (rules.length === 0) return 'one of the allowed forms';
  return `${rules.join(' or ')}${nullable ? ', or null' : ''}`;
}

function variantRule(v: Record<string, unknown>): string {
  const bounds = [
    v['exclusiveMinimum'] !== undefined ? `> ${String(v['exclusiveMinimum'])}` : null,
    v['minimum'] !== undefined ? `>= ${String(v['minimum'])}` : null,
    v['maximum'] !== undefined ? `<= ${String(v['maximum'])}` : null,
  ].filter(Boolean);
  switch (v['type']) {
    case 'integer':
      return `an integer${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
    case 'number':
      return `a number${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
    case 'string':
      return v['minLength'] === 1 ? 'a non-empty string' : 'a string';
    case 'array':
      return 'a list';
    default:
      return String(v['type'] ?? 'a value');
  }
}

/**
 * Quotes a value for an error message, shortened so a huge payload cannot flood a log line. Bounded work whatever
 * the value: strings are cut before they are quoted, and lists and objects show their first few entries to a
 * shallow depth (a value 5,000 levels deep is never walked, let alone stringified).
 */
export function quote(value: unknown, max = 80): string {
  const text = preview(value, max + 1, 3);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function preview(value: unknown, budget: number, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > budget ? value.slice(0, budget) : value);
  if (value === null || typeof value !== 'object') return String(value);
  const list = Array.isArray(value);
  if (depth === 0) return list ? '[…]' : '{…}';
  const parts: string[] = [];
  let used = 2;
  // A loop that stops at the budget: neither a huge list nor a huge object is copied first.
  const add = (key: string | null, v: unknown): boolean => {
    if (used >= budget) {
      parts.push('…');
      return false;
    }
    const part = (key === null ? '' : `${JSON.stringify(key.slice(0, budget))}:`) + preview(v, budget - used, depth - 1);
    parts.push(part);
    used += part.length + 1;
    return true;
  };
  if (list) {
    for (const v of value as unknown[]) if (!add(null, v)) break;
  } else {
    for (const key in value) if (Object.hasOwn(value, key) && !add(key, (value as Record<string, unknown>)[key])) break;
  }
  return list ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
}
