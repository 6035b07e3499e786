import { decodeText, type JsMsg } from '@tangerine/bus';
import { TangerineError, parseTaskSpec, quote, type ParseOptions, type Rejection, type TaskSpec } from '@tangerine/contracts';
import type { Submission } from '@tangerine/ledger';

export type Parsed =
  | { kind: 'submit'; seq: number; submission: Submission }
  | { kind: 'cancel'; seq: number; name: string }
  | { kind: 'invalid'; seq: number; rejection: Rejection };

/** Reads one command message; bad input becomes a rejection that names the field and the rule. Pure. */
export function parseCommand(subject: string, seq: number, data: Uint8Array, now: Date, options: ParseOptions = {}): Parsed {
  const text = decodeText(data);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(seq, text, null, new TangerineError('invalid_json', `payload: is not valid JSON (${quote(text, 60)})`), now);
  }
  const name = typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string'
    ? (value as { name: string }).name.slice(0, 100) : null;
  try {
    if (subject === 'tasks.cancel') return { kind: 'cancel', seq, name: parseCancel(value) };
    const spec: TaskSpec = parseTaskSpec(value, options);
    return { kind: 'submit', seq, submission: { seq, spec } };
  } catch (err) {
    if (err instanceof TangerineError) return invalid(seq, text, name, err, now);
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

function invalid(seq: number, text: string, name: string | null, err: TangerineError, now: Date): Parsed {
  return { kind: 'invalid', seq, rejection: rejection(name, err, text, now) };
}

export function payloadOf(m: JsMsg): string {
  return decodeText(m.data);
}
