import { IDLE_STATES } from '@tangerine/contracts';
import { decideFire, parseCron } from '@tangerine/cron';
import type { DueTask, Fire } from '@tangerine/ledger';

/** A due task whose stored schedule this version cannot read (an upgrade changed a rule): it is parked, not fired. */
export interface Unreadable {
  name: string;
  version: number;
  reason: string;
}

/**
 * What to do with each due task at `now` (decideFire for the rules). Pure: the service reads the due tasks,
 * calls this, and applies the result as one compare-and-set per task. A task whose schedule throws is set apart in
 * `unreadable`: one such task must not stop the fire times of every other (the tick would fail on it forever).
 */
export function planFires(due: readonly DueTask[], now: Date): { fires: Fire[]; unreadable: Unreadable[] } {
  const fires: Fire[] = [];
  const unreadable: Unreadable[] = [];
  for (const task of due) {
    try {
      fires.push(planFire(task, now));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      unreadable.push({
        name: task.name, version: task.version,
        reason: `cron: the schedule cannot be read (${why.slice(0, 200)}); cancel the task and submit it again`,
      });
    }
  }
  return { fires, unreadable };
}

function planFire(task: DueTask, now: Date): Fire {
  const spec = task.spec;
  const schedule = spec.cron ? parseCron(spec.cron, { name: spec.name, timezone: spec.timezone ?? 'UTC' }) : null;
  const busy = !IDLE_STATES.includes(task.state);
  const concurrency = spec.concurrency ?? 'forbid';
  const d = decideFire({
    due: task.next_run_at, now, schedule, busy, concurrency, startingDeadlineSeconds: spec.starting_deadline ?? 300,
  });
  const outcome = d.action === 'fire' ? 'fired' : d.reason === 'busy' ? 'skipped_busy' : 'skipped_deadline';
  const child = d.action === 'fire' && busy ? childTask(task, d.fireTime) : null;
  return {
    name: task.name, version: task.version, from: task.state, due: task.next_run_at, fire_time: d.fireTime, outcome,
    missed_from: d.missedFrom, next_run_at: d.next, child, attempt: task.attempt, host: task.host,
  };
}

/** With concurrency allow, a fire time that comes during a run runs as a one-off copy of the task. */
function childTask(task: DueTask, fireTime: Date): Fire['child'] {
  const name = childName(task.name, fireTime);
  return {
    name,
    spec: { ...task.spec, name, cron: null, timezone: null, schedule_at: null, dependencies: [], concurrency: 'forbid' },
  };
}

/** `<name>-<YYYYMMDDTHHMMSS>` of the fire time in UTC: readable, sortable, and a valid task name. */
export function childName(name: string, fireTime: Date): string {
  return `${name}-${fireTime.toISOString().slice(0, 19).replace(/[-:]/g, '')}`;
}
