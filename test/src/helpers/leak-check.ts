/**
 * The leaked-handle check: scripts/run-tests.mjs passes `--import` of this module to every test file's process, and
 * it adds a root-level `after` hook there, which node:test runs once the file's own suites (and their `after` hooks)
 * are done. It fails the file, naming what is left: child processes it started, sockets, servers, timers, and
 * containers of the Docker hosts its clusters ran. Then it closes what it found, so that a leak fails the file
 * instead of hanging it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { after } from 'node:test';

/** Host ids whose containers belong to this test process (Cluster agents, the Docker executor's test). */
export function trackHosts(...hosts: string[]): void {
  for (const h of hosts) trackedHosts().add(h);
}

function trackedHosts(): Set<string> {
  const key = Symbol.for('tangerine.test.hosts');
  const g = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  return (g[key] ??= new Set<string>());
}

interface Handle {
  constructor?: { name?: string };
  _handle?: { hasRef?: () => boolean } | null;
  hasRef?: () => boolean;
  unref?: () => void;
  destroy?: () => void;
  close?: () => void;
  kill?: (sig?: string) => void;
  pid?: number;
  spawnfile?: string;
  spawnargs?: string[];
  remoteAddress?: string;
  readyState?: string;
  destroyed?: boolean;
  _host?: string | null;
  remotePort?: number;
  localPort?: number;
  address?: () => unknown;
}

const processWithHandles = process as unknown as { _getActiveHandles?: () => Handle[] };

function refed(h: Handle): boolean {
  const inner = h._handle ?? h;
  return typeof inner?.hasRef === 'function' ? inner.hasRef() : true;
}

/** Live handles other than stdio, each with what it is. */
function liveHandles(): { handle: Handle; what: string }[] {
  const stdio = new Set<unknown>([process.stdin, process.stdout, process.stderr]);
  return (processWithHandles._getActiveHandles?.() ?? [])
    .filter((h) => !stdio.has(h) && refed(h))
    .map((handle) => ({ handle, what: describeHandle(handle) }));
}

function describeHandle(h: Handle): string {
  const kind = h.constructor?.name ?? 'handle';
  if (kind === 'ChildProcess') return `child process ${h.pid} (${(h.spawnargs ?? [h.spawnfile]).join(' ').slice(0, 200)})`;
  if (kind === 'Socket' || kind === 'TLSSocket') {
    const state = `${h.readyState ?? '?'}${h.destroyed ? ', destroyed' : ''}`;
    if (h.remotePort) return `socket to ${h.remoteAddress}:${h.remotePort} (${state})`;
    return h.localPort ? `socket from local port ${h.localPort} (${state})` : `socket or pipe (${h._host ?? 'no peer'}, ${state})`;
  }
  if (kind === 'Server') return `server listening on ${JSON.stringify(h.address?.())}`;
  return kind;
}

/** Timers and immediates that keep the loop alive (node lists them only by type). */
function liveTimers(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate');
}

/** Processes whose parent is this one: catches children a test spawned detached or unref'd. Linux only. */
function childPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the fields after the last `)` are fixed.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 200);
  } catch {
    return '?';
  }
}

interface Leaks {
  handles: { handle: Handle; what: string }[];
  timers: string[];
  pids: number[];
}

function leaksNow(): Leaks {
  return { handles: liveHandles(), timers: liveTimers(), pids: childPids() };
}

const empty = (l: Leaks) => l.handles.length === 0 && l.timers.length === 0 && l.pids.length === 0;

async function containersLeft(): Promise<{ id: string; what: string }[]> {
  const hosts = trackedHosts();
  if (hosts.size === 0) return [];
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  const all = await docker.listContainers({ all: true, filters: { label: ['tangerine.host'] } });
  const left = all.filter((c) => hosts.has(c.Labels['tangerine.host'] ?? ''));
  for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  return left.map((c) => ({ id: c.Id.slice(0, 12), what: `container ${c.Id.slice(0, 12)} of host ${c.Labels['tangerine.host']} (task ${c.Labels['tangerine.task'] ?? '?'})` }));
}

function release(l: Leaks): void {
  for (const { handle } of l.handles) {
    if (handle.constructor?.name === 'ChildProcess') handle.kill?.('SIGKILL');
    else if (typeof handle.destroy === 'function') handle.destroy();
    else if (typeof handle.close === 'function') handle.close();
    handle.unref?.();
  }
  for (const pid of l.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  // Timers cannot be listed, only counted: if one still holds the loop, end the process (the failure is reported).
  if (l.timers.length > 0) setTimeout(() => process.exit(1), 1000).unref();
}

/**
 * Runs once the file's tests and every `after` hook are done. node:test runs root `after` hooks in the order they
 * were registered, and this one is registered before the file loads, so a file's own root-level `after` (say, one
 * that closes a shared launcher) runs after it: the hook only starts a poll, which waits for those to finish.
 */
async function check(): Promise<void> {
  // A socket closed by an `after` hook goes in a tick or two, a killed child when its exit is read: wait for the
  // process to be clean, up to 3 s, before calling anything left a leak.
  const deadline = Date.now() + 3000;
  let leaks = leaksNow();
  while (!empty(leaks) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    leaks = leaksNow();
  }
  const containers = await containersLeft().catch((err: unknown) => [{ id: '', what: `cannot list containers: ${String(err)}` }]);
  if (empty(leaks) && containers.length === 0) return;
  const lines = [
    ...leaks.handles.map((h) => h.what),
    ...leaks.pids.filter((pid) => !leaks.handles.some((h) => h.handle.pid === pid)).map((pid) => `process ${pid} (${commandOf(pid)})`),
    ...(leaks.timers.length > 0 ? [`${leaks.timers.length} timer(s): ${leaks.timers.join(', ')}`] : []),
    ...containers.map((c) => c.what),
  ];
  process.stderr.write(`\nleaked-handle check: ${process.argv[1] ?? 'the test file'} left these behind:\n  ${lines.join('\n  ')}\n`);
  // A non-zero exit fails the file in node --test's report even when every test passed.
  process.exitCode = 1;
  release(leaks);
}

if (process.env['NODE_TEST_CONTEXT']) {
  after(() => {
    void check();
  });
}
