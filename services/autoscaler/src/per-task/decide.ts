import { TaskState } from '@tangerine/contracts';

/** The task states in which it needs its instance: waiting to be placed, placed, running (a retry waits in `ready`). */
const NEEDS_INSTANCE: readonly TaskState[] = [TaskState.ready, TaskState.placed, TaskState.running];
/** EC2 states in which the instance runs no agent any more, or soon will not. */
const GONE = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

export type Verdict =
  | { action: 'launch' }
  | { action: 'keep' }
  | { action: 'terminate'; reason: string }
  | { action: 'end'; state: string; reason: string };

/**
 * What to do with one open instance row: `taskState` null when the task is gone, `ec2State` null when EC2 has not
 * described the instance (not launched, or too new for EC2's eventually consistent reads).
 */
export function judge(o: { taskState: TaskState | null; instanceId: string | null; ec2State: string | null }): Verdict {
  const needed = o.taskState !== null && NEEDS_INSTANCE.includes(o.taskState);
  const why = o.taskState === null ? 'the task is gone' : `the task is ${o.taskState}`;
  if (!needed) {
    if (o.instanceId === null) return { action: 'end', state: 'not-launched', reason: `${why} before its instance was launched` };
    if (o.ec2State === 'terminated') return { action: 'end', state: 'terminated', reason: `${why}; its instance was terminated already` };
    return { action: 'terminate', reason: why };
  }
  if (o.instanceId === null) return { action: 'launch' };
  if (o.ec2State !== null && GONE.has(o.ec2State)) return { action: 'end', state: o.ec2State, reason: `lost: EC2 has the instance ${o.ec2State}` };
  return { action: 'keep' };
}

/**
 * Instances Tangerine tagged that no open row holds: launched for a row ended meanwhile (a task that ended while its
 * launch was under way, an autoscaler killed between the launch and its record), or left by a lost ledger. A row
 * still launching (no instance id yet) keeps the instance tagged with its id: its launch, redone with the same
 * ClientToken, gets that instance back.
 */
export function strays(
  tagged: ReadonlyArray<{ instanceId: string; launch: string | null }>, open: ReadonlyArray<{ id: string; instanceId: string | null }>,
): string[] {
  const byId = new Map(open.map((r) => [r.id, r.instanceId]));
  return tagged.filter((t) => {
    if (t.launch === null || !byId.has(t.launch)) return true;
    const held = byId.get(t.launch);
    return held !== null && held !== t.instanceId;
  }).map((t) => t.instanceId);
}
