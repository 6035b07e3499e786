import { TASK_LABEL, hostTakes } from '@tangerine/contracts';

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
  if (!host.executors.includes(task.executor) || !hostTakes(host.labels, task.constraints)) return false;
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
 * Assigns tasks, oldest first, to hosts that fit them: the host with the most free share of its slots, the lowest
 * id among equals. A task no host fits now is left for a later pass. Pure: the capacities passed in are not changed.
 */
export function assign(tasks: readonly TaskNeeds[], hosts: readonly HostCapacity[]): Assignment[] {
  return new Fleet(hosts).assign(tasks);
}

/** What runs on a host now, beyond the `used` its capacity was built with. */
export interface HostLoad {
  used: number;
  cpu: number;
  memory: number;
}

/**
 * The hosts placement may use (draining ones left out), indexed once for many passes: by label, and by what a
 * group of tasks asks of labels and executor (its candidates, found through the label index the first time a task
 * of that group comes, so a task never looks at a host of another zone). The placer keeps one while its host view
 * does not change (hosts joining, leaving, changing labels or slots, draining) and gives each pass the load of the
 * moment.
 *
 * In a pass, each group's candidates are kept in a heap by score, so a task without a cpu or memory reservation
 * costs O(log candidates) rather than a look at every host. With 10,000 hosts and 5,000 ready tasks, the earlier
 * scan of every host for every task (50 million `fits`) took seconds a pass, and rebuilding the index every pass
 * still cost 20 ms; a pass now takes a few milliseconds (test/src/bench/fleet). A task with a reservation still
 * scans its group's candidates, since the emptiest host may lack the cpu or memory.
 */
export class Fleet {
  readonly hosts: readonly HostCapacity[];
  private readonly index = new Map<string, number>();
  private readonly byLabel = new Map<string, number[]>();
  private readonly groups = new Map<string, Int32Array>();
  /** Does any host carry the label of a task's own instance? Without one, `hostTakes` is not asked at all. */
  private ownHosts = false;
  /** What the capacities passed in hold already, by index: a pass starts from a copy. */
  private readonly base: { used: Float64Array; cpuUsed: Float64Array; memoryUsed: Float64Array };

  constructor(hosts: readonly HostCapacity[]) {
    this.hosts = hosts.filter((h) => !h.draining);
    const n = this.hosts.length;
    this.base = { used: new Float64Array(n), cpuUsed: new Float64Array(n), memoryUsed: new Float64Array(n) };
    this.hosts.forEach((h, i) => {
      this.index.set(h.id, i);
      this.base.used[i] = h.used;
      this.base.cpuUsed[i] = h.cpuUsed;
      this.base.memoryUsed[i] = h.memoryUsed;
      if (h.labels[TASK_LABEL] !== undefined) this.ownHosts = true;
      for (const k in h.labels) {
        const key = `${k}\u0000${h.labels[k]}`;
        const list = this.byLabel.get(key);
        if (list) list.push(i);
        else this.byLabel.set(key, [i]);
      }
    });
  }

  /** Free slots across the fleet under this load. */
  free(load?: ReadonlyMap<string, HostLoad>): number {
    return this.state(load).free();
  }

  /**
   * The load of every host by index: the base copied, then the load's hosts added (a host without runs is not in
   * it), so a pass costs a copy of three arrays rather than a lookup for each of 10,000 hosts.
   */
  private state(load: ReadonlyMap<string, HostLoad> | undefined): PassState {
    const state = new PassState(this.hosts, this.base);
    if (load) {
      for (const [id, l] of load) {
        const i = this.index.get(id);
        if (i === undefined) continue;
        state.used[i]! += l.used;
        state.cpuUsed[i]! += l.cpu;
        state.memoryUsed[i]! += l.memory;
      }
    }
    return state;
  }

  /** Assigns tasks, oldest first (see `assign`), to these hosts under this load, at most `max`. Changes neither. */
  assign(tasks: readonly TaskNeeds[], load?: ReadonlyMap<string, HostLoad>, max = Infinity): Assignment[] {
    const out: Assignment[] = [];
    if (tasks.length === 0 || this.hosts.length === 0) return out;
    const state = this.state(load);
    let free = state.free();
    const heaps = new Map<string, GroupHeap | null>();
    for (const task of tasks) {
      if (free <= 0 || out.length >= max) break;
      const key = groupKey(task);
      let heap = heaps.get(key);
      if (heap === undefined) {
        const candidates = this.candidates(key, task);
        heap = candidates.length === 0 ? null : new GroupHeap(candidates, state);
        heaps.set(key, heap);
      }
      if (heap === null) continue;
      const best = task.cpu === null && task.memory === null ? heap.best() : heap.scan(task);
      if (best < 0) continue;
      state.used[best]! += 1;
      state.cpuUsed[best]! += task.cpu ?? 0;
      state.memoryUsed[best]! += task.memory ?? 0;
      free -= 1;
      out.push({ name: task.name, attempt: task.attempt, host: this.hosts[best]!.id });
    }
    return out;
  }

  /** The hosts that offer the task's executor and carry every label it asks for (slots and reservations aside). */
  private candidates(key: string, task: TaskNeeds): Int32Array {
    let found = this.groups.get(key);
    if (found) return found;
    const entries = Object.entries(task.constraints);
    let smallest: readonly number[] | null = null;
    for (const [k, v] of entries) {
      const list = this.byLabel.get(`${k}\u0000${v}`) ?? [];
      if (smallest === null || list.length < smallest.length) smallest = list;
    }
    const matches = (i: number): boolean => {
      const h = this.hosts[i]!;
      // Once per group and host view, not per pass: a host started for one task is no candidate of any other group.
      return h.executors.includes(task.executor) && entries.every(([k, v]) => h.labels[k] === v) && (!this.ownHosts || hostTakes(h.labels, task.constraints));
    };
    found = smallest === null
      ? Int32Array.from(this.hosts.keys()).filter(matches)
      : Int32Array.from(smallest).filter(matches);
    this.groups.set(key, found);
    return found;
  }
}

/** What a task asks of a host's labels and executor: tasks that ask the same have the same candidates. */
function groupKey(task: TaskNeeds): string {
  const keys = Object.keys(task.constraints);
  if (keys.length === 0) return task.executor;
  if (keys.length > 1) keys.sort();
  let key = task.executor;
  for (const k of keys) key += `\u0000${k}\u0000${task.constraints[k]}`;
  return key;
}

/** The load of every host during one pass, by index, grown by the pass's own assignments. */
class PassState {
  readonly used: Float64Array;
  readonly cpuUsed: Float64Array;
  readonly memoryUsed: Float64Array;

  constructor(readonly hosts: readonly HostCapacity[], base: { used: Float64Array; cpuUsed: Float64Array; memoryUsed: Float64Array }) {
    this.used = Float64Array.from(base.used);
    this.cpuUsed = Float64Array.from(base.cpuUsed);
    this.memoryUsed = Float64Array.from(base.memoryUsed);
  }

  free(): number {
    let free = 0;
    for (let i = 0; i < this.hosts.length; i++) free += Math.max(0, this.hosts[i]!.slots - this.used[i]!);
    return free;
  }

  score(i: number): number {
    const h = this.hosts[i]!;
    return (h.slots - this.used[i]!) / Math.max(1, h.slots);
  }

  /** `fits`, for a host of the task's group (executor and labels already match). */
  fits(i: number, task: TaskNeeds): boolean {
    const h = this.hosts[i]!;
    if (this.used[i]! >= h.slots) return false;
    if (task.cpu !== null && h.cpu > 0 && this.cpuUsed[i]! + task.cpu > h.cpu) return false;
    if (task.memory !== null && h.memory > 0 && this.memoryUsed[i]! + task.memory > h.memory) return false;
    return true;
  }

  /** Is host `a` (with score `as`) a better choice than `b`: a higher score, or the same and a lower id. */
  better(a: number, as: number, b: number, bs: number): boolean {
    return as > bs || (as === bs && this.hosts[a]!.id < this.hosts[b]!.id);
  }
}

/**
 * The candidates of one group in a pass, in a max-heap by (score, lowest id). Entries are corrected lazily: the top
 * entry's score is checked against the host's current one and pushed back down when it fell (a task of another
 * group may have used the same host). Since scores only fall during a pass, a top entry whose score is current is
 * the best host of the group.
 */
class GroupHeap {
  private readonly hosts: number[] = [];
  /** The host's score when its entry was last set: never lower than its score now. */
  private readonly scores: number[] = [];

  constructor(private readonly candidates: Int32Array, private readonly state: PassState) {
    for (const i of candidates) {
      if (state.used[i]! >= state.hosts[i]!.slots) continue;
      this.hosts.push(i);
      this.scores.push(state.score(i));
    }
    for (let i = (this.hosts.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** The best candidate with a free slot, for a task that reserves neither cpu nor memory; -1 when none has one. */
  best(): number {
    const { hosts, scores, state } = this;
    while (hosts.length > 0) {
      const top = hosts[0]!;
      if (state.used[top]! >= state.hosts[top]!.slots) {
        // Full: it stays full for the rest of this pass.
        const lastHost = hosts.pop()!;
        const lastScore = scores.pop()!;
        if (hosts.length > 0) {
          hosts[0] = lastHost;
          scores[0] = lastScore;
          this.down(0);
        }
        continue;
      }
      const now = state.score(top);
      if (now === scores[0]) return top;
      scores[0] = now;
      this.down(0);
    }
    return -1;
  }

  /** For a task with a reservation: every candidate is looked at. */
  scan(task: TaskNeeds): number {
    const { state } = this;
    let best = -1;
    let bestScore = 0;
    for (const i of this.candidates) {
      if (!state.fits(i, task)) continue;
      const s = state.score(i);
      if (best < 0 || state.better(i, s, best, bestScore)) {
        best = i;
        bestScore = s;
      }
    }
    return best;
  }

  private down(at: number): void {
    const { hosts, scores, state } = this;
    const n = hosts.length;
    const host = hosts[at]!;
    const sc = scores[at]!;
    let i = at;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && state.better(hosts[r]!, scores[r]!, hosts[l]!, scores[l]!)) c = r;
      if (!state.better(hosts[c]!, scores[c]!, host, sc)) break;
      hosts[i] = hosts[c]!;
      scores[i] = scores[c]!;
      i = c;
    }
    hosts[i] = host;
    scores[i] = sc;
  }
}
