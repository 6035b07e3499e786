import { Limits, ValidationError, nestsDeeper, type Validator } from '@tangerine/contracts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}

/**
 * Parses and validates an internal message; throws a ValidationError (`invalid_message`) naming the field and the
 * rule. A message nested deeper than any valid one is refused before the schema walks it.
 */
export function decode<T>(data: Uint8Array, validator: Validator<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    throw new ValidationError('invalid_message', 'payload: is not valid JSON', { field: 'payload' });
  }
  if (nestsDeeper(value, Limits.jsonDepth)) {
    throw new ValidationError('invalid_message', `payload: must not nest deeper than ${Limits.jsonDepth} levels`, { field: 'payload' });
  }
  return validator.parse(value, 'invalid_message');
}

/**
 * A payload as a dead letter or a rejection may show it: env values hidden (they are often secrets), and shortened.
 * Only the first levels are looked at: `env`/`environment` of a spec, of a list of specs, or of a dispatch's spec.
 */
export function redactPayload(text: string, max: number = Limits.quotedPayloadChars): string {
  let shown = text;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !nestsDeeper(value, Limits.jsonDepth)) shown = JSON.stringify(hideEnv(value, 3));
  } catch {
    // not JSON: shown as it is
  }
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}

function hideEnv(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth === 0) return value;
  if (Array.isArray(value)) return value.map((v) => hideEnv(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === 'env' || k === 'environment') && v !== null && typeof v === 'object') out[k] = hiddenValues(v);
    else out[k] = hideEnv(v, depth - 1);
  }
  return out;
}

/** `{"K": "secret"}` → `{"K": "***"}`; `["K=secret"]` → `["K=***"]`; `[["K", "secret"]]` → `[["K", "***"]]`. */
function hiddenValues(env: object): unknown {
  if (!Array.isArray(env)) return Object.fromEntries(Object.keys(env).map((k) => [k, '***']));
  return env.map((item: unknown) => {
    if (typeof item === 'string') return item.includes('=') ? `${item.slice(0, item.indexOf('='))}=***` : '***';
    if (Array.isArray(item)) return [item[0], '***'];
    return '***';
  });
}
