import { nextFire } from './fire.js';
import { parseCron } from './schedule.js';

/** For tests: the next `count` fire times of `expression` after `from`, as ISO strings. */
export function fireTimes(expression: string, from: string, count: number, timezone = 'UTC'): string[] {
  const schedule = parseCron(expression, { name: 'task', timezone });
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < count; i++) {
    t = nextFire(schedule, t);
    out.push(t.toISOString());
  }
  return out;
}
