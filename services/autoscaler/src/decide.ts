import { INSTANCE_LABEL, satisfies, unplaced, type ReadyGroup } from './demand.js';
import type { ProviderInstance } from './provider.js';

/** The decision's clocks, in milliseconds (config.ts reads them from the environment). */
export interface DecisionSettings {
  /** A host idle this long may be drained for scale-down (SCALE_DOWN_IDLE, 3 min). */
  idleMs: number;
  /** Between two scale-ups of one provider (SCALE_UP_COOLDOWN, 15 s). */
  upCooldownMs: number;
  /** After any scaling of one provider, before a scale-down (SCALE_DOWN_COOLDOWN, 2 min). */
  downCooldownMs: number;
  /** An instance asked for that has not joined by then is given up (SCALE_JOIN_DEADLINE, 10 min). */
  joinDeadlineMs: number;
  /**
   * A drained host is terminated only once it has stayed empty this long after its drain (SCALE_DRAIN_SETTLE, 5 s): the
   * placer learns of a drain at its next refresh, and a run it placed just before shows in the ledger by then.
   */
  drainSettleMs: number;
}

/** A live host as the ledger has it (down hosts are left out): `used` counts its placed and running tasks. */
export interface HostInput {
  id: string;
  labels: Record<string, string>;
  slots: number;
  used: number;
  state: 'up' | 'draining';
  /** Since when it has held no task (null while it holds one), by the autoscaler's own clock. */
  idleSinceMs: number | null;
}

/** A drain the autoscaler made for scale-down and has not finished: recorded in the ledger, so it survives a restart. */
export interface OwnDrain {
  host: string;
  instanceId: string;
  atMs: number;
}

export interface ProviderState {
  name: string;
  min: number;
  max: number;
  labels: Record<string, string>;
  slotsPerHost: number;
  /** The capacity the provider has been asked for (its describe's target). */
  target: number;
  instances: ReadonlyArray<ProviderInstance & { launchedAtMs: number }>;
  lastUpMs: number | null;
  lastDownMs: number | null;
  drains: readonly OwnDrain[];
  /** When the target was last raised: capacity asked for and never launched is given up after the join deadline. */
  askedAtMs: number | null;
}

export interface DecisionInput {
  ready: readonly ReadyGroup[];
  hosts: readonly HostInput[];
  providers: readonly ProviderState[];
  nowMs: number;
  settings: DecisionSettings;
}

export interface HostRef { host: string; instanceId: string }

export interface ProviderDecision {
  provider: string;
  /** The target before and the one wanted. */
  from: number;
  target: number;
  /** A scale-up decided (the up cooldown's clock starts) / drains begun for scale-down (the down cooldown's). */
  up: boolean;
  down: boolean;
  drain: HostRef[];
  /** Own drains undone: the host took a task before the drain took effect, or work came back for it. */
  undrain: Array<HostRef & { reason: 'busy' | 'wanted' }>;
  /** Own drains finished: empty since the drain settled. */
  terminate: HostRef[];
  /** Own drains whose host or instance is gone already: the record is closed. */
  gone: HostRef[];
  /** Own drains whose host is up again (undrained by someone, or the drain was never asked: killed in between): closed as undone. */
  lapsed: HostRef[];
  /** Instances asked for that never joined within the deadline: terminated and reported. */
  giveUp: string[];
  /** Capacity asked for that the provider never launched within the deadline (taken off the target). */
  unlaunchedGivenUp: number;
  /** Hosts still listed whose instance the provider has shutting down or terminated. */
  orphans: HostRef[];
  /** Ready task slots counted toward this provider that no live host's free slot takes. */
  waiting: number;
  actual: number;
  starting: number;
  draining: number;
  reason: string;
}

const ALIVE: ReadonlySet<ProviderInstance['state']> = new Set(['pending', 'running']);

/**
 * The autoscaler's decision, a plain function: for each provider the capacity wanted and which hosts to drain,
 * undrain and terminate. Scale-up is fast (up cooldown only) and counts hosts already starting, so 40 tasks on
 * 2-slot hosts ask for 20 hosts, not 40 for every evaluation they wait; scale-down is slow (idle for `idleMs`, no
 * ready task for the provider, `downCooldownMs` since its last scaling either way) and only ever drains hosts
 * holding no task, so a queue that alternates full and empty does not make the fleet flip-flop.
 */
export function decide(input: DecisionInput): ProviderDecision[] {
  // A host whose instance is gone gives no slot, though the ledger lists it until it times out.
  const gone = new Set(input.providers.flatMap((p) => p.instances.filter((i) => !ALIVE.has(i.state)).map((i) => i.instanceId)));
  const left = unplaced(input.ready, input.hosts.map((h) => ({
    labels: h.labels, free: h.state === 'up' && !gone.has(h.labels[INSTANCE_LABEL] ?? '') ? Math.max(0, h.slots - h.used) : 0,
  })));
  const waiting = new Map<string, number>();
  const readyFor = new Map<string, number>();
  input.ready.forEach((g, i) => {
    const fitting = input.providers.filter((p) => p.max > 0 && satisfies(p.labels, g.constraints));
    for (const p of fitting) readyFor.set(p.name, (readyFor.get(p.name) ?? 0) + g.count);
    // Unplaced work counts toward the first provider that can run it, not toward each: one host, not one per provider.
    if (fitting[0] && left[i]! > 0) waiting.set(fitting[0].name, (waiting.get(fitting[0].name) ?? 0) + left[i]!);
  });
  const byInstance = new Map<string, HostInput>();
  for (const h of input.hosts) {
    const id = h.labels[INSTANCE_LABEL];
    if (id !== undefined) byInstance.set(id, h);
  }
  return input.providers.map((p) => decideProvider(p, {
    waiting: waiting.get(p.name) ?? 0, readyFor: readyFor.get(p.name) ?? 0, byInstance, nowMs: input.nowMs, settings: input.settings,
  }));
}

interface Seen {
  waiting: number;
  readyFor: number;
  byInstance: ReadonlyMap<string, HostInput>;
  nowMs: number;
  settings: DecisionSettings;
}

function decideProvider(p: ProviderState, seen: Seen): ProviderDecision {
  const { nowMs, settings } = seen;
  const alive = p.instances.filter((i) => ALIVE.has(i.state));
  const joined = alive.flatMap((i) => { const h = seen.byInstance.get(i.instanceId); return h ? [{ host: h, instanceId: i.instanceId }] : []; });
  const starting = alive.filter((i) => !seen.byInstance.has(i.instanceId));
  const giveUp = starting.filter((i) => nowMs - i.launchedAtMs >= settings.joinDeadlineMs).map((i) => i.instanceId);
  const unlaunched = Math.max(0, p.target - alive.length);
  const unlaunchedGivenUp = unlaunched > 0 && p.askedAtMs !== null && nowMs - p.askedAtMs >= settings.joinDeadlineMs ? unlaunched : 0;
  const pending = unlaunched - unlaunchedGivenUp;
  const drains = progressDrains(p, alive, seen);
  const orphans = p.instances.filter((i) => !ALIVE.has(i.state) && seen.byInstance.has(i.instanceId))
    .map((i) => ({ host: seen.byInstance.get(i.instanceId)!.id, instanceId: i.instanceId }));

  // Work that the slots of hosts starting will not take: hosts drained for scale-down come back first, then new ones.
  let needSlots = Math.max(0, seen.waiting - (starting.length - giveUp.length + pending) * p.slotsPerHost);
  const wanted: ProviderDecision['undrain'] = [];
  for (const d of [...drains.terminate, ...drains.waiting]) {
    if (needSlots <= 0) break;
    wanted.push({ ...d, reason: 'wanted' });
    needSlots -= seen.byInstance.get(d.instanceId)?.slots ?? p.slotsPerHost;
  }
  const terminate = drains.terminate.filter((d) => !wanted.some((w) => w.host === d.host));
  const stillDraining = drains.waiting.filter((d) => !wanted.some((w) => w.host === d.host));
  const remaining = alive.length - giveUp.length - terminate.length + pending;
  const need = Math.ceil(Math.max(0, needSlots) / p.slotsPerHost);
  const upAllowed = p.lastUpMs === null || nowMs - p.lastUpMs >= settings.upCooldownMs;
  let target = need > 0 && upAllowed ? Math.min(p.max, remaining + need) : remaining;
  target = Math.max(p.min, Math.min(target, Math.max(p.max, p.min)));
  const up = target > remaining && need > 0;

  const lastScaling = Math.max(p.lastUpMs ?? -Infinity, p.lastDownMs ?? -Infinity);
  const downAllowed = seen.readyFor === 0 && need === 0 && wanted.length === 0 && nowMs - lastScaling >= settings.downCooldownMs;
  const drain = downAllowed ? pickIdle(joined, p, seen, remaining - stillDraining.length - p.min) : [];

  return {
    provider: p.name, from: p.target, target, up, down: drain.length > 0, drain,
    undrain: [...drains.busy.map((d) => ({ ...d, reason: 'busy' as const })), ...wanted], terminate, gone: drains.gone, lapsed: drains.lapsed,
    giveUp, unlaunchedGivenUp, orphans, waiting: seen.waiting, actual: joined.length, starting: starting.length - giveUp.length + pending,
    draining: joined.filter((j) => j.host.state === 'draining').length,
    reason: reasonOf({ need, upAllowed, target, remaining, drain: drain.length, terminate: terminate.length, waiting: seen.waiting }),
  };
}

/** Where each own drain stands: host gone, up again, busy (undo), empty long enough (terminate), or still settling. */
type DrainProgress = Record<'gone' | 'lapsed' | 'busy' | 'terminate' | 'waiting', HostRef[]>;

function progressDrains(p: ProviderState, alive: readonly ProviderInstance[], seen: Seen): DrainProgress {
  const out: DrainProgress = { gone: [], lapsed: [], busy: [], terminate: [], waiting: [] };
  for (const d of p.drains) {
    const ref = { host: d.host, instanceId: d.instanceId };
    const host = seen.byInstance.get(d.instanceId);
    if (!host || host.id !== d.host || !alive.some((i) => i.instanceId === d.instanceId)) out.gone.push(ref);
    else if (host.state === 'up') out.lapsed.push(ref);
    else if (host.used > 0) out.busy.push(ref);
    else if (seen.nowMs - d.atMs >= seen.settings.drainSettleMs) out.terminate.push(ref);
    else out.waiting.push(ref);
  }
  return out;
}

/** Idle hosts to drain, idle longest first, never more than `room` (what keeps the provider at its minimum). */
function pickIdle(joined: ReadonlyArray<{ host: HostInput; instanceId: string }>, p: ProviderState, seen: Seen, room: number): HostRef[] {
  if (room <= 0) return [];
  const own = new Set(p.drains.map((d) => d.host));
  return joined
    .filter((j) => j.host.state === 'up' && j.host.used === 0 && !own.has(j.host.id)
      && j.host.idleSinceMs !== null && seen.nowMs - j.host.idleSinceMs >= seen.settings.idleMs)
    .sort((a, b) => a.host.idleSinceMs! - b.host.idleSinceMs! || a.host.id.localeCompare(b.host.id))
    .slice(0, room)
    .map((j) => ({ host: j.host.id, instanceId: j.instanceId }));
}

function reasonOf(d: { need: number; upAllowed: boolean; target: number; remaining: number; drain: number; terminate: number; waiting: number }): string {
  if (d.need > 0 && !d.upAllowed) return `${d.waiting} task slots wait; scale-up cooling down`;
  if (d.target > d.remaining) return `${d.waiting} task slots wait: ${d.target - d.remaining} more host(s)`;
  if (d.drain > 0) return `${d.drain} host(s) idle: draining for scale-down`;
  if (d.terminate > 0) return `${d.terminate} drained host(s) empty: terminating`;
  return 'steady';
}
