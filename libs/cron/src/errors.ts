/**
 * Thrown for a bad cron expression or time zone. `field` names the task-spec field at fault (`cron` or
 * `timezone`), so a caller can map it to its own validation error; the message starts with that field and,
 * for an expression, names the cron field (minute, day of week, ...) and quotes the offending part.
 */
export class CronError extends Error {
  override readonly name = 'CronError';
  /** The task-spec field at fault. */
  readonly field: 'cron' | 'timezone';
  /** The offending text quoted in the message, or null when the fault is not one part (a wrong field count). */
  readonly part: string | null;

  constructor(field: 'cron' | 'timezone', message: string, part: string | null) {
    super(`${field}: ${message}`);
    this.field = field;
    this.part = part;
  }
}

/** Is this a CronError, from any copy of this package? */
export function isCronError(e: unknown): e is CronError {
  if (e instanceof CronError) return true;
  const field = (e as { field?: unknown } | null)?.field;
  return e instanceof Error && e.name === 'CronError' && (field === 'cron' || field === 'timezone');
}

/** An error in the expression; `part` is quoted in the message. */
export function cronError(message: string, part: string | null): CronError {
  return new CronError('cron', message, part);
}
