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

/** What a payload that names `secret_env` but cannot be read is shown as: its values cannot be found to be hidden. */
export const UNREADABLE_SECRETS_SHOWN = '(not shown: it names secret_env but does not parse as JSON)';

/**
 * A payload as a dead letter or a rejection may show it: env and secret_env values hidden (env values are often
 * secrets too), and shortened. Only the first levels are looked at: the fields of a spec, of a list of specs, or of
 * a dispatch's spec. A text that is not JSON is shown as it is, unless it names `secret_env`: then not at all.
 */
export function redactPayload(text: string, max: number = Limits.quotedPayloadChars): string {
  let shown: string | null = null;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !nestsDeeper(value, Limits.jsonDepth)) shown = JSON.stringify(hideEnv(value, 3));
    else if (value === null || typeof value !== 'object') shown = text;
  } catch {
    // not JSON: judged below
  }
  if (shown === null) shown = text.includes('secret_env') ? UNREADABLE_SECRETS_SHOWN : text;
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}

/**
 * `env` and `environment` in the first `depth` levels, `secret_env` at any level (the walk is bounded by the
 * nesting checked before): a secret stays hidden wherever a malformed payload puts it.
 */
function hideEnv(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => hideEnv(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'secret_env') out[k] = v !== null && typeof v === 'object' ? hiddenValues(v) : '***';
    else if (depth > 0 && (k === 'env' || k === 'environment') && v !== null && typeof v === 'object') out[k] = hiddenValues(v);
    else out[k] = hideEnv(v, depth - 1);
  }
  return out;
}

/** `{"K": "secret"}` → `{"K": "***"}`; `["K=secret"]` → `["K=***"]`; `[["K", "secret"]]` → `[["K", "***"]]`. */
function hiddenValues(env: object): unknown {
  if (!Array.isArray(env)) return Object.fromEntries(Object.keys(env).map((k) => [k, '***']));
  return env.map((item: unknown) => {
    if (typeof item === 'string') return item.includes('=') ? `${item.slice(0, item.indexOf('='))}=***` : '***';
    // A pair of one item is a value without its name: hidden too.
    if (Array.isArray(item)) return item.length >= 2 ? [item[0], '***'] : ['***'];
    return '***';
  });
}
