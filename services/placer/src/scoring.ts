/** What placement knows of a live host. */
export interface HostCapacity {
  id: string;
  labels: Readonly<Record<string, string>>;
  executors: readonly string[];
  slots: number;
  used: number;
  cpu: number;
  cpuUsed: number;
  memory: number;
  memoryUsed: number;
  draining: boolean;
}

export interface TaskNeeds {
  name: string;
  attempt: number;
  executor: string;
  constraints: Readonly<Record<string, string>>;
  cpu: number | null;
  memory: number | null;
}

export interface Assignment {
  name: string;
  attempt: number;
  host: string;
}

/** Can this host take this task now? */
export function fits(host: HostCapacity, task: TaskNeeds): boolean {
  if (host.draining || host.used >= host.slots) return false;
  if (!host.executors.includes(task.executor)) return false;
  for (const [key, value] of Object.entries(task.constraints)) {
    if (host.labels[key] !== value) return false;
  }
  if (task.cpu !== null && host.cpu > 0 && host.cpuUsed + task.cpu > host.cpu) return false;
  if (task.memory !== null && host.memory > 0 && host.memoryUsed + task.memory > host.memory) return false;
  return true;
}

/** Higher is better: the emptiest host first, so work spreads and a lost host takes less with it. */
export function score(host: HostCapacity): number {
  return (host.slots - host.used) / Math.max(1, host.slots);
}

/**
 * Assigns tasks, oldest first, to hosts that fit them; a task no host fits now is left for a later pass.
 * Pure: the capacities passed in are copied, not changed.
 */
export function assign(tasks: readonly TaskNeeds[], hosts: readonly HostCapacity[]): Assignment[] {
  const pool = hosts.map((h) => ({ ...h }));
  const out: Assignment[] = [];
  let free = pool.reduce((n, h) => n + (h.draining ? 0 : Math.max(0, h.slots - h.used)), 0);
  for (const task of tasks) {
    if (free <= 0) break;
    let best: HostCapacity | null = null;
    for (const h of pool) {
      if (fits(h, task) && (best === null || score(h) > score(best) || (score(h) === score(best) && h.id < best.id))) best = h;
    }
    if (!best) continue;
    best.used += 1;
    best.cpuUsed += task.cpu ?? 0;
    best.memoryUsed += task.memory ?? 0;
    free -= 1;
    out.push({ name: task.name, attempt: task.attempt, host: best.id });
  }
  return out;
}
