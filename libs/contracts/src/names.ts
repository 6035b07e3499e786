/**
 * Task names and host ids are NATS subject tokens (`tasks.events.<name>.<state>`, `agents.<host>.run`), so both
 * follow this one rule: no dot, no wildcard, no space, at most 100 characters.
 */
export const NAME_RULE = '[A-Za-z0-9][A-Za-z0-9_-]{0,99}';
export const NAME_PATTERN = `^${NAME_RULE}$`;
export const NAME_RE = new RegExp(NAME_PATTERN);

/** A label's name, on a host (HOST_LABELS) and in a task's constraints alike. */
export const LABEL_KEY_RULE = '[A-Za-z0-9][A-Za-z0-9_./-]{0,62}';
export const LABEL_KEY_RE = new RegExp(`^${LABEL_KEY_RULE}$`);
