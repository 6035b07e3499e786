import { isDeepStrictEqual } from 'node:util';
import { hideSecretValues, isFinished, parseTaskSpec, type TaskSpec, type TaskView } from '@tangerine/contracts';

/**
 * Does a document ask for the spec a task already has? Both are compared as the ledger holds them: the document
 * normalised by parseTaskSpec (aliases, defaults), its secret values shown as `(secret)` as every read shows the
 * stored ones. A cron task's time zone, when the document gives none, is the stored one: intake filled it from its
 * own TZ, which the CLI cannot know. A document that does not parse is not the same (intake will say why).
 * Consequence, documented: a change of a secret value alone is not seen by `apply` (submit it again to change it).
 */
export function sameSpec(document: unknown, stored: TaskSpec): boolean {
  let spec: TaskSpec;
  try {
    spec = parseTaskSpec(document, stored.timezone !== null ? { defaultTimezone: stored.timezone } : {});
  } catch {
    return false;
  }
  return isDeepStrictEqual(hideSecretValues(spec), stored);
}

/** What `apply` does with a task document, given the task of that name (null: none). */
export type ApplyAction =
  /** No task of that name: submitted. */
  | 'create'
  /** The task has this spec already: left as it is. */
  | 'unchanged'
  /** The task finished with another spec: submitted again, which replaces it. */
  | 'replace'
  /** The task has another spec and has not finished: intake would refuse it (duplicate_task); cancel it first. */
  | 'busy';

export function applyAction(document: unknown, existing: Pick<TaskView, 'spec' | 'state'> | null): ApplyAction {
  if (existing === null) return 'create';
  if (sameSpec(document, existing.spec)) return 'unchanged';
  return isFinished(existing.state) ? 'replace' : 'busy';
}
