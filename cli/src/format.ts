import type { HostView, TaskState, TaskView } from '@tangerine/contracts';
import type { WatchEvent } from '@tangerine/client';

/** How long ago, as `ps` shows it: `42s`, `5m`, `3h`, `12d` (the largest whole unit, as kubectl's AGE). */
export function age(fromIso: string, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000));
  if (!Number.isFinite(s)) return '-';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export const PS_HEAD = ['NAME', 'STATE', 'HOST', 'ATTEMPT', 'FAILURES', 'AGE'] as const;

/** One row of `ps`: name, state, host (`-` when none), attempt, failures, age since it was submitted. */
export function psRow(t: Pick<TaskView, 'name' | 'state' | 'host' | 'attempt' | 'failures' | 'created_at'>, nowMs: number): string[] {
  return [t.name, t.state, t.host ?? '-', String(t.attempt), String(t.failures), age(t.created_at, nowMs)];
}

export const HOSTS_HEAD = ['HOST', 'STATE', 'SLOTS', 'RUNNING', 'EXECUTORS', 'LABELS', 'LAST SEEN'] as const;

export function hostRow(h: HostView, nowMs: number): string[] {
  const labels = Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(',');
  return [h.host, h.state, String(h.slots), String(h.running_count), h.executors.join(','), labels || '-', `${age(h.last_seen, nowMs)} ago`];
}

/** `--state ready,running --state failed` → the states, each once; an unknown one is refused by the caller. */
export function splitList(values: readonly string[]): string[] {
  return [...new Set(values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
}

/** What `get` knows of a dependency: its state, and its own dependencies; null when no task has that name yet. */
export type Node = { state: TaskState; dependencies: readonly string[] } | null;

/**
 * The upstream tree of a task, one line per node: each dependency under the task that needs it, with its state.
 * A node met again (a diamond's shared root) is shown once in full and then as `(above)`; a name with no task yet
 * is `(not submitted)`. `nodes` holds what was read; a name missing from it is `(not read)`.
 */
export function treeLines(root: string, nodes: ReadonlyMap<string, Node>): string[] {
  const lines: string[] = [];
  const shown = new Set<string>();
  const label = (name: string): string => {
    if (!nodes.has(name)) return `${name} (not read)`;
    const n = nodes.get(name);
    return n === null || n === undefined ? `${name} (not submitted)` : `${name} ${n.state}`;
  };
  const walk = (name: string, prefix: string, childPrefix: string): void => {
    const again = shown.has(name);
    lines.push(`${prefix}${label(name)}${again && (nodes.get(name)?.dependencies.length ?? 0) > 0 ? ' (above)' : ''}`);
    if (again) return;
    shown.add(name);
    const deps = nodes.get(name)?.dependencies ?? [];
    deps.forEach((d, i) => {
      const last = i === deps.length - 1;
      walk(d, `${childPrefix}${last ? '└── ' : '├── '}`, `${childPrefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(root, '', '');
  return lines;
}

/** One event as `events` prints it: time, kind, what changed. */
export function eventLine(e: WatchEvent): string {
  switch (e.kind) {
    case 'task': {
      const t = e.event;
      const extra = [
        t.host !== null ? `host=${t.host}` : '', t.attempt > 0 ? `attempt=${t.attempt}` : '', t.failures > 0 ? `failures=${t.failures}` : '',
        t.exit_code !== null ? `exit=${t.exit_code}` : '', t.reason !== null ? `reason=${JSON.stringify(t.reason)}` : '',
      ].filter(Boolean);
      return [t.at, 'task', t.name, `${t.from ?? '-'} -> ${t.state}`, ...extra].join(' ');
    }
    case 'host': {
      const h = e.event;
      return [h.at, 'host', h.host, `${h.from ?? '-'} -> ${h.state}`, ...(h.reason !== null ? [`reason=${JSON.stringify(h.reason)}`] : [])].join(' ');
    }
    case 'rejection': {
      const r = e.event;
      return [r.at, 'rejected', r.name ?? '-', r.code, JSON.stringify(r.reason)].join(' ');
    }
    case 'fleet': {
      const f = e.event;
      return [f.at, 'fleet', f.kind, `silent=${f.silent}/${f.total}`, JSON.stringify(f.reason)].join(' ');
    }
  }
}

/**
 * The part of `now` (a run's output as read again) not printed yet, given `seen` (what was printed). The ledger keeps
 * a run's last 64 KiB, so once output outgrows that its start moves: the new part then begins after the longest end
 * of `seen` that `now` begins with (`now` whole when none does).
 */
export function newPart(seen: string, now: string): string {
  if (now.startsWith(seen)) return now.slice(seen.length);
  // The longest suffix of seen that is a prefix of now; bounded, as now is at most 64 KiB.
  for (let start = Math.max(0, seen.length - now.length); start < seen.length; start++) {
    const tail = seen.slice(start);
    if (now.startsWith(tail)) return now.slice(tail.length);
  }
  return now;
}
