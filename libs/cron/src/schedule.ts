// The parsed, validated schedule a task carries, and the one way to make it.
import { compile } from './compile.js';
import { parseExpression } from './expression.js';
import { checkTimezone } from './zone.js';

export interface CronSchedule {
  /** The expression as given. */
  readonly expression: string;
  /**
   * Six fields (seconds first), macros expanded and `H` replaced by the values hashed from the task name.
   * Fire times depend only on this and `timezone`, so both can be stored and a schedule rebuilt from them.
   */
  readonly resolved: string;
  /** IANA time-zone name in which the fields are wall-clock times. */
  readonly timezone: string;
}

/**
 * Parses and validates a cron expression for the task `name` (which seeds `H`) in `timezone`. Throws
 * CronError (field `cron` or `timezone`) naming the fault.
 */
export function parseCron(expression: string, options: { name: string; timezone: string }): CronSchedule {
  const timezone = checkTimezone(options.timezone);
  const { resolved } = parseExpression(expression, options.name);
  compile(resolved);
  return Object.freeze({ expression, resolved, timezone });
}
