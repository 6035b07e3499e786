import { ConflictError, type TaskSpec, type TaskState, UNSUCCESSFUL_STATES, isFinished } from '@tangerine/contracts';
import { nextFire, parseCron } from '@tangerine/cron';

export interface Submission {
  /** Stream sequence of the submit message: identifies a redelivery. The specs of one list share it. */
  seq: number;
  /** Unique within a batch: the sequence, with `:<index>` for a spec of a list. */
  key?: string;
  spec: TaskSpec;
  /** The template merged into `spec` (intake did), recorded with the task; none when absent. */
  template?: { name: string; version: number } | null;
}

export interface ExistingTask {
  state: TaskState;
  submit_seq: number;
}

export interface PlannedTask {
  seq: number;
  spec: TaskSpec;
  /** The state it had before (a finished task submitted again), or null when new. */
  from: TaskState | null;
  state: 'waiting' | 'scheduled' | 'ready' | 'blocked';
  reason: string | null;
  /** The fire time the cron service acts on next: the start time, or a cron task's next fire time. */
  next_run_at: Date | null;
  pending: number;
  edges: { dependency: string; satisfied: boolean }[];
  /** The submission's template, recorded with the task. */
  template?: { name: string; version: number } | null;
}

export interface SubmissionPlan {
  accept: PlannedTask[];
  reject: { seq: number; key?: string; name: string; error: ConflictError }[];
  /** Submissions already applied (redelivered): their current state is announced again. */
  replay: { seq: number; name: string }[];
}

export interface LedgerView {
  /** The rows of the submitted names that exist. */
  existing: ReadonlyMap<string, ExistingTask>;
  /** States of the dependencies named by the batch that exist; one that has succeeded since its submission reads `success`. */
  dependencyStates: ReadonlyMap<string, TaskState>;
  /** Edges task → dependencies already in the ledger that a cycle could run through. */
  edges: ReadonlyMap<string, readonly string[]>;
  /** Names of the batch that some task in the ledger already depends on. */
  dependedOn: ReadonlySet<string>;
  /** The time of the submission, for start times and first fire times. */
  now: Date;
}

/**
 * Decides, in submission order, what each submission of a batch does: create or restart a task (and in which
 * first state), be rejected, or be recognized as a redelivery. Pure: the ledger module reads the view, calls
 * this, and writes the plan in the same transaction.
 */
export function planSubmissions(batch: readonly Submission[], view: LedgerView): SubmissionPlan {
  const plan: SubmissionPlan = { accept: [], reject: [], replay: [] };
  const planned = new Map<string, PlannedTask>();
  const graph = new Map<string, readonly string[]>(view.edges);
  const dependedOn = new Set(view.dependedOn);

  for (const sub of batch) {
    const { name } = sub.spec;
    const existing = view.existing.get(name);
    if (existing && existing.submit_seq >= sub.seq && !planned.has(name)) {
      plan.replay.push({ seq: sub.seq, name });
      continue;
    }
    const current = planned.get(name)?.state ?? existing?.state;
    if (current !== undefined && !isFinished(current)) {
      plan.reject.push({ seq: sub.seq, key: sub.key, name, error: new ConflictError('duplicate_task',
        `name: a task named "${name}" is ${current}; submit it again once it has finished`, { field: 'name' }) });
      continue;
    }
    if (sub.spec.dependencies.length > 0 && dependedOn.has(name)) {
      const cycle = findPath(graph, sub.spec.dependencies, name);
      if (cycle) {
        plan.reject.push({ seq: sub.seq, key: sub.key, name, error: new ConflictError('dependency_cycle',
          `dependencies: would close a cycle ${[name, ...cycle].join(' → ')}`, { field: 'dependencies' }) });
        continue;
      }
    }
    const task = initialState(sub, current ?? null, view.now, (dep) => planned.get(dep)?.state ?? view.dependencyStates.get(dep));
    plan.accept.push(task);
    planned.set(name, task);
    graph.set(name, sub.spec.dependencies);
    for (const dep of sub.spec.dependencies) dependedOn.add(dep);
  }
  return plan;
}

function initialState(sub: Submission, from: TaskState | null, now: Date, stateOf: (dep: string) => TaskState | undefined): PlannedTask {
  let blockedBy: { dep: string; state: TaskState } | null = null;
  const edges = sub.spec.dependencies.map((dependency) => {
    const state = stateOf(dependency);
    if (state !== undefined && UNSUCCESSFUL_STATES.includes(state) && !blockedBy) blockedBy = { dep: dependency, state };
    return { dependency, satisfied: state === 'success' };
  });
  const pending = edges.filter((e) => !e.satisfied).length;
  const blocked = blockedBy as { dep: string; state: TaskState } | null;
  const base = { seq: sub.seq, spec: sub.spec, from, pending, edges, template: sub.template ?? null };
  if (blocked) {
    return { ...base, state: 'blocked', reason: `dependency ${blocked.dep} is ${blocked.state}`, next_run_at: null };
  }
  const startAt = sub.spec.schedule_at === null ? null : new Date(sub.spec.schedule_at);
  if (startAt !== null && startAt > now) return { ...base, state: 'scheduled', reason: null, next_run_at: startAt };
  // Tangerine's meaning: a cron task runs when submitted, then at each fire time after that.
  const next = sub.spec.cron === null ? null : nextFire(parseCron(sub.spec.cron, { name: sub.spec.name, timezone: sub.spec.timezone ?? 'UTC' }), now);
  return { ...base, state: pending > 0 ? 'waiting' : 'ready', reason: null, next_run_at: next };
}

/** Depth-first search from `starts` along dependency edges; the path to `target`, or null. */
export function findPath(graph: ReadonlyMap<string, readonly string[]>, starts: readonly string[], target: string): string[] | null {
  const parent = new Map<string, string | null>();
  const stack: string[] = [];
  for (const s of starts) {
    if (!parent.has(s)) { parent.set(s, null); stack.push(s); }
  }
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node === target) {
      const path: string[] = [];
      for (let n: string | null = node; n !== null; n = parent.get(n) ?? null) path.unshift(n);
      return path;
    }
    for (const next of graph.get(node) ?? []) {
      if (!parent.has(next)) { parent.set(next, node); stack.push(next); }
    }
  }
  return null;
}
