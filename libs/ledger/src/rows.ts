import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { RowError, TASK_STATES, TaskSpec, compile, isValidationError, type Validator } from '@tangerine/contracts';

/**
 * What the ledger gives back is parsed, not cast: a row written by an older version, or edited by hand, fails here
 * with a RowError (`invalid_row`) naming the table and column (`tasks.spec.image: must be a string`), which a
 * consumer sets aside, instead of going on as a value of the wrong type. The validators are compiled once (TypeBox):
 * on the 2-core dev machine a stored spec of a docker task checks in 1.1 µs and an event row in 0.1 µs, so a placement
 * pass of 5,000 tasks spends about 6 ms on them, against 600-1,000 ms of ledger time.
 */
export interface RowParser<T> {
  (row: unknown): T;
}

export function rowParser<S extends TSchema>(table: string, schema: S): RowParser<Static<S>> {
  return parserOf(table, compile(schema));
}

function parserOf<T>(where: string, validator: Validator<T>): RowParser<T> {
  return (row) => {
    if (validator.check(row)) return row;
    let field = 'value';
    let message = `${where}: does not parse`;
    try {
      validator.parse(row, 'invalid_message');
    } catch (err) {
      if (isValidationError(err)) {
        field = err.field ?? 'value';
        message = err.message;
      }
    }
    const column = field === 'value' ? where : `${where}.${field}`;
    throw new RowError(`${column}${message.slice(message.indexOf(':'))} (read back from the ledger)`, { field: column });
  };
}

/** A task's stored spec (`tasks.spec`, jsonb), as intake wrote it. */
export const parseStoredSpec: RowParser<TaskSpec> = parserOf('tasks.spec', compile(TaskSpec));

/** The columns of EVENT_COLUMNS. `version` is a bigint, which pg gives as text. */
export const EventRowSchema = Type.Object({
  name: Type.String(),
  state: Type.Union(TASK_STATES.map((s) => Type.Literal(s))),
  attempt: Type.Integer({ minimum: 0 }),
  failures: Type.Integer({ minimum: 0 }),
  version: Type.Union([Type.String({ pattern: '^[0-9]+$' }), Type.Integer({ minimum: 1 })]),
  host: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  updated_at: Type.Date(),
});
