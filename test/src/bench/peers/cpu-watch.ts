// Where the machine's CPU went during a run, so a figure taken on a shared machine can be judged: this process
// and its descendants (with the children they reaped: the `true`s the workers spawn), the PostgreSQL backends of
// the run's database, the Docker daemons, and the rest of the machine's busy time (/proc/stat), which is other
// people's work plus PostgreSQL's shared processes (WAL writer, checkpointer). Sampled from /proc every 500 ms: a
// watched process's time after its last sample is missed (a backend closed at the end of a run).
import { readFileSync, readdirSync } from 'node:fs';
import { machineBusySeconds } from '../stack.js';

export type CpuCategory = 'run' | 'database' | 'docker' | 'others';

interface Sample { ppid: number; ticks: number; started: string; cmd: string }

function readProcs(): Map<number, Sample> {
  const out = new Map<number, Sample>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), started: f[19]!, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export class CpuWatch {
  private prev = readProcs();
  private readonly seconds: Record<Exclude<CpuCategory, 'others'>, number> = { run: 0, database: 0, docker: 0 };
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = performance.now();
  private readonly busy0 = machineBusySeconds();
  private readonly others = new Map<string, number>();
  private result: { seconds: Record<CpuCategory, number>; cores: Record<CpuCategory, number> } | null = null;

  constructor(private readonly database: string | null) {
    this.timer = setInterval(() => this.sample(), 500);
  }

  private category(pid: number, procs: Map<number, Sample>): CpuCategory {
    const cmd = procs.get(pid)?.cmd ?? '';
    if (this.database && cmd.startsWith('postgres:') && cmd.includes(` ${this.database} `)) return 'database';
    if (/^(\/\S+\/)?(dockerd|containerd|containerd-shim\S*|runc|docker-proxy|libnetwork-setkey)\b/.test(cmd)) return 'docker';
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = procs.get(p)?.ppid, hops++) {
      if (p === process.pid) return 'run';
    }
    return 'others';
  }

  private sample(): void {
    const now = readProcs();
    // A child that was sampled and is gone was reaped by its parent, whose cutime/cstime now holds the child's
    // whole time: only the part after the child's last sample is new.
    const reaped = new Map<number, number>();
    for (const [pid, s] of this.prev) {
      if (now.get(pid)?.started !== s.started) reaped.set(s.ppid, (reaped.get(s.ppid) ?? 0) + s.ticks);
    }
    for (const [pid, s] of now) {
      const before = this.prev.get(pid);
      if (!before || before.started !== s.started) continue;
      const ticks = s.ticks - before.ticks - (reaped.get(pid) ?? 0);
      if (ticks <= 0) continue;
      const category = this.category(pid, now);
      if (category !== 'others') this.seconds[category] += ticks / 100;
      else {
        const name = /^postgres: \S+ \S+ \S+\(/.test(s.cmd) ? 'postgres backends (other databases)' : s.cmd.trim().split(' ').slice(0, 3).join(' ').slice(0, 60) || '[kernel threads]';
        this.others.set(name, (this.others.get(name) ?? 0) + ticks / 100);
      }
    }
    this.prev = now;
  }

  /** The sampled processes of `others` that used the most CPU seconds. */
  topOthers(n = 4): string {
    return [...this.others.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join('; ');
  }

  /** CPU seconds per category, and the average cores each used over the watch. */
  stop(): { seconds: Record<CpuCategory, number>; cores: Record<CpuCategory, number> } {
    if (this.result) return this.result;
    clearInterval(this.timer);
    this.sample();
    const wall = (performance.now() - this.t0) / 1000;
    const watched = this.seconds.run + this.seconds.database + this.seconds.docker;
    const seconds = { ...this.seconds, others: Math.max(0, machineBusySeconds() - this.busy0 - watched) };
    const cores = Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, v / wall])) as Record<CpuCategory, number>;
    this.result = { seconds, cores };
    return this.result;
  }
}
