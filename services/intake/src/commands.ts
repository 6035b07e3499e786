import { decodeText, type JsMsg } from '@tangerine/bus';
import { TangerineError, parseTaskSpec, quote, type ParseOptions, type Rejection, type TaskSpec } from '@tangerine/contracts';
import type { Submission } from '@tangerine/ledger';

/** `key`: the message's stream sequence, plus `:<index>` for a spec of a list; it makes rejection ids unique. */
export type Parsed =
  | { kind: 'submit'; seq: number; key: string; submission: Submission; text: string }
  | { kind: 'cancel'; seq: number; key: string; name: string }
  | { kind: 'invalid'; seq: number; key: string; rejection: Rejection };

/** Specs one `tasks.submit` message may carry as a JSON list (the batch form). */
export const MAX_SPECS_PER_MESSAGE = 1000;

/**
 * Reads one command message: a spec, a JSON list of specs (each judged on its own), or a cancel. Bad input becomes
 * a rejection that names the field and the rule. Pure.
 */
export function parseCommand(subject: string, seq: number, data: Uint8Array, now: Date, options: ParseOptions = {}): Parsed[] {
  const text = decodeText(data);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [invalid(seq, `${seq}`, text, null, new TangerineError('invalid_json', `payload: is not valid JSON (${quote(text, 60)})`), now)];
  }
  if (subject === 'tasks.submit' && Array.isArray(value)) {
    if (value.length > MAX_SPECS_PER_MESSAGE) {
      return [invalid(seq, `${seq}`, text, null, new TangerineError('invalid_spec',
        `spec: a list may hold at most ${MAX_SPECS_PER_MESSAGE} specs (got ${value.length}); send several messages`), now)];
    }
    return value.map((item, i) => parseOne(subject, seq, `${seq}:${i}`, item, JSON.stringify(item) ?? 'null', now, options));
  }
  return [parseOne(subject, seq, `${seq}`, value, text, now, options)];
}

function parseOne(subject: string, seq: number, key: string, value: unknown, text: string, now: Date, options: ParseOptions): Parsed {
  const name = typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string'
    ? (value as { name: string }).name.slice(0, 100) : null;
  try {
    if (subject === 'tasks.cancel') return { kind: 'cancel', seq, key, name: parseCancel(value) };
    const spec: TaskSpec = parseTaskSpec(value, options);
    return { kind: 'submit', seq, key, submission: { seq, key, spec }, text };
  } catch (err) {
    if (err instanceof TangerineError) return invalid(seq, key, text, name, err, now);
    throw err;
  }
}

function parseCancel(value: unknown): string {
  const name = (value as { name?: unknown } | null)?.name;
  if (typeof value !== 'object' || value === null || typeof name !== 'string') {
    throw new TangerineError('invalid_request', 'name: is required (send {"name": "<task>"})', { field: 'name' });
  }
  return name;
}

export function rejection(name: string | null, err: TangerineError, payload: string, now: Date): Rejection {
  return {
    name,
    code: err.code,
    field: err.field ?? null,
    reason: err.message,
    payload: payload.length > 512 ? `${payload.slice(0, 511)}…` : payload,
    at: now.toISOString(),
  };
}

function invalid(seq: number, key: string, text: string, name: string | null, err: TangerineError, now: Date): Parsed {
  return { kind: 'invalid', seq, key, rejection: rejection(name, err, text, now) };
}

export function payloadOf(m: JsMsg): string {
  return decodeText(m.data);
}
