import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorReply, NAME_PATTERN, TaskName } from '@tangerine/contracts';

/** The path parameter of a task's routes. */
export const NameParams = Type.Object({ name: TaskName }, { additionalProperties: false });
export const HostParams = Type.Object({ id: Type.String({ pattern: NAME_PATTERN, description: 'a host id' }) }, { additionalProperties: false });

const WHY: Record<number, string> = {
  400: 'the request breaks a rule (the field and the rule named)', 401: 'no valid bearer token', 403: 'the token may only read',
  404: 'not found', 409: 'in the wrong state', 413: 'the body is over API_BODY_LIMIT', 415: 'a Content-Type the route does not take',
  503: 'NATS or the ledger is away, or too many streams',
};

/** The failures a route documents, each with the error body `{"error": {code, message, field?}}`. */
export function failures(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, { ...ErrorReply, description: WHY[s] ?? 'an error' }]));
}
