import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where the launcher makes a cgroup per run (`root`) and where it returns between spawns (`home`). */
export interface Hierarchy {
  controller: 'memory' | 'cpu' | 'unified';
  root: string;
  home: string;
}

export interface CgroupPlan {
  mode: 'v1' | 'v2';
  hierarchies: Hierarchy[];
}

/** This process's cgroup path in each hierarchy, from /proc/self/cgroup (`0::/a/b`, `4:memory:/a`, `2:cpu,cpuacct:/`). */
export function ownCgroups(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, controllers = '', where = '/'] = m;
    if (controllers === '') own.set('unified', where);
    for (const c of controllers.split(',').filter(Boolean)) own.set(c, where);
  }
  return own;
}

/**
 * Sets up the cgroups of this agent's process runs, or says why it cannot. cgroup v2 (one hierarchy at
 * /sys/fs/cgroup with the cpu and memory controllers): the agent moves itself into a leaf `agent-<host>` of its own
 * cgroup (a cgroup whose children have controllers may hold no process), turns cpu and memory on below, and the
 * runs go under `runs-<host>`. cgroup v1 (a hierarchy per controller): the runs go under `tangerine-<host>` at the
 * top of the memory and cpu hierarchies (not below the agent's own cgroup, which its supervisor may want to remove
 * with the agent), and the launcher's home is the agent's cgroup.
 * Called before the launcher starts, so that it starts in its home.
 */
export function setUpCgroups(host: string, base = '/sys/fs/cgroup', selfCgroup = '/proc/self/cgroup'): CgroupPlan | { reason: string } {
  let own: Map<string, string>;
  try {
    own = ownCgroups(readFileSync(selfCgroup, 'utf8'));
  } catch (err) {
    return { reason: `cannot read ${selfCgroup} (${(err as Error).message})` };
  }
  try {
    if (existsSync(path.join(base, 'cgroup.controllers'))) {
      const mine = path.join(base, own.get('unified') ?? '/');
      const available = readFileSync(path.join(mine, 'cgroup.controllers'), 'utf8').split(/\s+/);
      if (!available.includes('cpu') || !available.includes('memory')) {
        return { reason: `cgroup v2 without the cpu and memory controllers in ${mine} (has: ${available.join(' ').trim() || 'none'})` };
      }
      const home = path.join(mine, `agent-${host}`);
      const root = path.join(mine, `runs-${host}`);
      mkdirSync(home, { recursive: true });
      writeFileSync(path.join(home, 'cgroup.procs'), String(process.pid));
      writeFileSync(path.join(mine, 'cgroup.subtree_control'), '+cpu +memory');
      mkdirSync(root, { recursive: true });
      writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu +memory');
      return { mode: 'v2', hierarchies: [{ controller: 'unified', root, home }] };
    }
    const hierarchies: Hierarchy[] = [];
    for (const controller of ['memory', 'cpu'] as const) {
      const mount = path.join(base, controller);
      if (!existsSync(path.join(mount, 'cgroup.procs'))) return { reason: `neither cgroup v2 nor a cgroup v1 ${controller} hierarchy at ${mount}` };
      const home = path.join(mount, own.get(controller) ?? '/');
      const root = path.join(mount, `tangerine-${host}`);
      mkdirSync(root, { recursive: true });
      hierarchies.push({ controller, root, home });
    }
    return { mode: 'v1', hierarchies };
  } catch (err) {
    return { reason: `cannot set up cgroups under ${base} (${(err as Error).message})` };
  }
}

/** Removes the runs' parent cgroups when the agent stops; one still holding a run (or not empty) stays. */
export function tearDownCgroups(plan: CgroupPlan | null): void {
  for (const h of plan?.hierarchies ?? []) {
    try {
      rmdirSync(h.root);
    } catch {
      // busy or gone: the next agent of the host reuses it
    }
  }
}
