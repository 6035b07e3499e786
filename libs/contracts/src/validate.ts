import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type ValueError, ValueErrorType } from '@sinclair/typebox/compiler';
import { TangerineError, type ErrorCode } from './errors.js';

/** A compiled schema: `parse` returns the typed value or throws a TangerineError naming the field and the rule. */
export interface Validator<T> {
  check(value: unknown): value is T;
  parse(value: unknown, code?: ErrorCode): T;
}

export function compile<S extends TSchema>(schema: S): Validator<Static<S>> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    check: (value): value is Static<S> => compiled.Check(value),
    parse(value, code = 'invalid_request') {
      if (compiled.Check(value)) return value;
      const first = compiled.Errors(value).First();
      const field = first ? fieldOf(first.path) : 'value';
      throw new TangerineError(code, `${field}: ${first ? describe(first) : 'is invalid'}`, { field });
    },
  };
}

/** `/runs/0/host` becomes `runs[0].host`, the way a user would write it. */
export function fieldOf(path: string): string {
  // JSON Pointer escapes: ~1 is '/', ~0 is '~'.
  const parts = path.split('/').filter((p) => p.length > 0).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (parts.length === 0) return 'value';
  return parts
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
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

/** Quotes a value for an error message, shortened so a huge payload cannot flood a log line. */
export function quote(value: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
