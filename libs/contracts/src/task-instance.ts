import { Type, type Static } from '@sinclair/typebox';

/**
 * A task with its own instance (job-scheduler's "a fresh spot instance per job"): the autoscaler launches one EC2
 * instance for it, whose agent takes only that task, and terminates it when the task ends. Only the instance type is
 * the submitter's; the AMI, subnet, security group, key and IAM profile are the operator's (TASK_INSTANCE_* in
 * services/autoscaler), so a spec cannot start a machine outside the network it was given.
 */
export const TaskInstance = Type.Object(
  {
    /** The EC2 instance type, e.g. `c5.large`: a family, a dot, a size. */
    type: Type.String({ pattern: '^[a-z][a-z0-9-]{0,30}\\.[a-z0-9]{1,31}$', description: 'an EC2 instance type such as "c5.large"' }),
    /** A spot instance (the default, as job-scheduler launched) or an on-demand one. */
    spot: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type TaskInstance = Static<typeof TaskInstance>;

/** The host label an agent started for one task announces (AGENT_ONLY_TASK), naming the task. */
export const TASK_LABEL = 'task';

/**
 * The constraints the placer applies to a task: its own, plus `task=<name>` when it has its own instance, so it is
 * placed on that instance's host and nowhere else. The same object when nothing is added (no copy on the hot path).
 */
export function placementConstraints(name: string, constraints: Readonly<Record<string, string>>, ownInstance: boolean): Readonly<Record<string, string>> {
  return ownInstance ? { ...constraints, [TASK_LABEL]: name } : constraints;
}

/**
 * May a host with these labels take a task with these (placement) constraints? A host started for one task (it
 * carries `task=<name>`) takes that task only; every other host takes anything its labels satisfy. The label match
 * itself is the placer's `fits`: this is the rule the other way round, from the host's side.
 */
export function hostTakes(labels: Readonly<Record<string, string>>, constraints: Readonly<Record<string, string>>): boolean {
  const only = labels[TASK_LABEL];
  return only === undefined || constraints[TASK_LABEL] === only;
}
