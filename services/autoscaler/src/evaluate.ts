import type { ScalingEvent } from '@tangerine/contracts';
import {
  closeDrain, openDrain, readBusyHosts, readOpenDrains, readReadyGroups, readScalingClocks, readScalingHosts, readTerminatedDrains, recordScaling, recordScalingSeen,
} from '@tangerine/ledger';
import { backoffDelay } from './backoff.js';
import { askHost, tell } from './bus.js';
import type { ServiceContext } from './config.js';
import { INSTANCE_LABEL } from './demand.js';
import { decide, type DecisionSettings, type HostInput, type ProviderDecision, type ProviderState } from './decide.js';
import type { Closable } from './providers/index.js';
import { ProviderError } from './provider.js';

/** Label sets of ready tasks read per evaluation: constraints are the submitters', so their variety is bounded here. */
const READY_GROUPS = 10_000;

/** What the service keeps between evaluations: idle clocks, first sightings, backoffs, the figures the metrics show. */
export interface ScalerMemory {
  idleSince: Map<string, number>;
  firstSeen: Map<string, number>;
  /** Orphans told, per provider. */
  told: Map<string, Set<string>>;
  backoff: Map<string, { failures: number; untilMs: number; code: string }>;
  last: Map<string, Pick<ProviderDecision, 'target' | 'actual' | 'starting' | 'draining' | 'waiting'>>;
}

export function newMemory(): ScalerMemory {
  return { idleSince: new Map(), firstSeen: new Map(), told: new Map(), backoff: new Map(), last: new Map() };
}

/**
 * One evaluation, on the leader: read the ledger and every provider not backing off, decide, then apply each
 * provider's decision. A provider that fails is left as it is (never scaled on a view it could not read) and tried
 * again after a backoff; the others go on.
 */
export async function evaluate(ctx: ServiceContext, providers: readonly Closable[], memory: ScalerMemory): Promise<void> {
  const now = ctx.clock.now();
  const nowMs = now.getTime();
  const [rows, ready] = await Promise.all([readScalingHosts(ctx.ledger), readReadyGroups(ctx.ledger, READY_GROUPS)]);
  const hosts = trackIdle(rows, memory.idleSince, nowMs);
  const states: Array<{ provider: Closable; state: ProviderState }> = [];
  for (const p of providers) {
    const off = memory.backoff.get(p.name);
    if (off && nowMs < off.untilMs) continue;
    try {
      states.push({ provider: p, state: await readState(ctx, p, memory, hosts, nowMs) });
    } catch (err) {
      await failed(ctx, p, memory, err, 'describe');
    }
  }
  for (const s of states) await undoInheritedDrains(ctx, s.provider, s.state, hosts, now);
  const decisions = decide({ ready, hosts, providers: states.map((s) => s.state), nowMs, settings: settingsOf(ctx) });
  for (const [i, d] of decisions.entries()) {
    const p = states[i]!.provider;
    try {
      await apply(ctx, p, d, now);
      memory.backoff.delete(p.name);
      memory.last.set(p.name, d);
      await recordScalingSeen(ctx.ledger, p.name, { target: d.target, actual: d.actual, starting: d.starting, draining: d.draining, at: now });
      await tellOrphans(ctx, p, d, memory, now);
    } catch (err) {
      await failed(ctx, p, memory, err, 'apply');
    }
  }
}

/** Each orphan told once while it lasts: the memory keeps only the provider's orphans of now (bounded by its hosts). */
async function tellOrphans(ctx: ServiceContext, p: Closable, d: ProviderDecision, memory: ScalerMemory, now: Date): Promise<void> {
  const told = memory.told.get(p.name) ?? new Set<string>();
  const current = new Set(d.orphans.map((o) => o.instanceId));
  for (const id of told) if (!current.has(id)) told.delete(id);
  memory.told.set(p.name, told);
  const fresh = d.orphans.filter((o) => !told.has(o.instanceId));
  for (const o of fresh) told.add(o.instanceId);
  await tell(ctx, fresh.map((o) => event(p, 'orphan', now, { host: o.host, instance: o.instanceId, reason: 'listed, but its instance is terminated' })));
}

function settingsOf(ctx: ServiceContext): DecisionSettings {
  const c = ctx.config;
  return { idleMs: c.idleMs, upCooldownMs: c.upCooldownMs, downCooldownMs: c.downCooldownMs, joinDeadlineMs: c.joinDeadlineMs, drainSettleMs: c.drainSettleMs };
}

/** Idle clocks: a host holding no task has been idle since the first evaluation that saw it so (a restart starts them again). */
function trackIdle(rows: Awaited<ReturnType<typeof readScalingHosts>>, idleSince: Map<string, number>, nowMs: number): HostInput[] {
  const seen = new Set<string>();
  const hosts = rows.map((h) => {
    seen.add(h.id);
    if (h.used > 0) idleSince.delete(h.id);
    else if (!idleSince.has(h.id)) idleSince.set(h.id, nowMs);
    return { ...h, idleSinceMs: h.used > 0 ? null : idleSince.get(h.id)! };
  });
  for (const id of idleSince.keys()) if (!seen.has(id)) idleSince.delete(id);
  return hosts;
}

async function readState(ctx: ServiceContext, p: Closable, memory: ScalerMemory, hosts: readonly HostInput[], nowMs: number): Promise<ProviderState> {
  const [view, clocks, drains] = await Promise.all([p.describe(), readScalingClocks(ctx.ledger, p.name), readOpenDrains(ctx.ledger, p.name)]);
  const ids = new Set(view.instances.map((i) => i.instanceId));
  const announced = hosts.filter((h) => ids.has(h.labels[INSTANCE_LABEL] ?? '')).reduce((m, h) => Math.max(m, h.slots), 0);
  for (const id of memory.firstSeen.keys()) if (!ids.has(id)) memory.firstSeen.delete(id);
  return {
    name: p.name, min: p.min, max: p.max, labels: p.labels, slotsPerHost: p.slotsPerHost ?? (announced || 1), target: view.target,
    instances: view.instances.map((i) => {
      if (!memory.firstSeen.has(i.instanceId)) memory.firstSeen.set(i.instanceId, nowMs);
      return { ...i, launchedAtMs: i.launchedAt?.getTime() ?? memory.firstSeen.get(i.instanceId)! };
    }),
    lastUpMs: clocks?.last_up?.getTime() ?? null, lastDownMs: clocks?.last_down?.getTime() ?? null,
    askedAtMs: clocks?.asked_at?.getTime() ?? null,
    drains: drains.map((d) => ({ host: d.host, instanceId: d.instance_id, atMs: d.drained_at.getTime() })),
  };
}

/**
 * A host id used again (the local provider's pool) for a new instance keeps the draining state the drain of its last
 * instance left, until host-health times that one out: the new instance is undrained, the drain being another's.
 */
async function undoInheritedDrains(ctx: ServiceContext, p: Closable, state: ProviderState, hosts: HostInput[], now: Date): Promise<void> {
  const alive = new Set(state.instances.filter((i) => i.state === 'pending' || i.state === 'running').map((i) => i.instanceId));
  const own = new Set(state.drains.map((d) => d.host));
  const candidates = hosts.filter((h) => h.state === 'draining' && !own.has(h.id) && alive.has(h.labels[INSTANCE_LABEL] ?? ''));
  const last = await readTerminatedDrains(ctx.ledger, candidates.map((h) => h.id));
  for (const h of candidates) {
    const before = last.get(h.id);
    if (before === undefined || before === h.labels[INSTANCE_LABEL]) continue;
    await askHost(ctx, 'undrain', h.id);
    h.state = 'up';
    const reason = `a new instance of host ${h.id} found it draining from the drain of ${before}, terminated`;
    await tell(ctx, [event(p, 'reconciled', now, { host: h.id, instance: h.labels[INSTANCE_LABEL]!, reason })]);
  }
}

/**
 * A decision carried out, in the order that never loses a task: close what is over, undo drains of hosts that took
 * work, check drained hosts empty once more, set the target (before any termination: a Spot Fleet would replace an
 * instance terminated under its old target), terminate, then begin new drains, each recorded before it is asked.
 */
async function apply(ctx: ServiceContext, p: Closable, d: ProviderDecision, now: Date): Promise<void> {
  const events: ScalingEvent[] = [];
  for (const g of d.gone) {
    if (await closeDrain(ctx.ledger, { ...g, state: 'gone', reason: 'its host or instance went away', at: now })) {
      events.push(event(p, 'reconciled', now, { host: g.host, instance: g.instanceId, reason: 'a drain closed: its host or instance went away' }));
    }
  }
  for (const l of d.lapsed) {
    if (await closeDrain(ctx.ledger, { ...l, state: 'undone', reason: 'the host was up again', at: now })) {
      events.push(event(p, 'reconciled', now, { host: l.host, instance: l.instanceId, reason: 'a drain undone: the host was up again' }));
    }
  }
  const busy = await readBusyHosts(ctx.ledger, d.terminate.map((t) => t.host));
  const undrain = [...d.undrain, ...d.terminate.filter((t) => busy.has(t.host)).map((t) => ({ ...t, reason: 'busy' as const }))];
  for (const u of undrain) {
    await askHost(ctx, 'undrain', u.host);
    const why = u.reason === 'busy' ? 'it took a task before its drain took effect' : 'work came back for it';
    if (await closeDrain(ctx.ledger, { ...u, state: 'undone', reason: why, at: now })) events.push(event(p, 'undrain', now, { host: u.host, instance: u.instanceId, reason: why }));
  }
  const terminate = d.terminate.filter((t) => !busy.has(t.host));
  const target = Math.min(Math.max(p.max, p.min), d.target + (d.terminate.length - terminate.length));
  if (target !== d.from) {
    await p.setTarget(target);
    await recordScaling(ctx.ledger, p.name, { target, at: now, up: d.up, asked: target > d.from });
    events.push(event(p, 'target', now, { from: d.from, to: target, reason: d.reason }));
    ctx.log.info({ provider: p.name, from: d.from, to: target, waiting: d.waiting }, `scaling ${p.name}: target ${d.from} → ${target} (${d.reason})`);
  }
  const ids = [...terminate.map((t) => t.instanceId), ...d.giveUp];
  if (ids.length > 0) await p.terminate(ids);
  for (const t of terminate) {
    await closeDrain(ctx.ledger, { ...t, state: 'terminated', reason: 'drained and empty', at: now });
    events.push(event(p, 'terminate', now, { host: t.host, instance: t.instanceId, reason: 'drained and empty' }));
  }
  for (const id of d.giveUp) events.push(event(p, 'given_up', now, { instance: id, reason: `did not join within ${ctx.config.joinDeadlineMs / 1000} s` }));
  if (d.unlaunchedGivenUp > 0) {
    events.push(event(p, 'given_up', now, { reason: `${d.unlaunchedGivenUp} instance(s) asked for were never launched within ${ctx.config.joinDeadlineMs / 1000} s` }));
  }
  await tell(ctx, events);
  await beginDrains(ctx, p, d, now);
}

/** Each drain recorded first (the compare-and-set), then asked of host-health; a host gone meanwhile closes it. */
async function beginDrains(ctx: ServiceContext, p: Closable, d: ProviderDecision, now: Date): Promise<void> {
  if (d.drain.length === 0) return;
  await recordScaling(ctx.ledger, p.name, { target: d.target, at: now, down: true });
  for (const h of d.drain) {
    if (!(await openDrain(ctx.ledger, { provider: p.name, host: h.host, instanceId: h.instanceId, at: now }))) continue;
    const state = await askHost(ctx, 'drain', h.host);
    if (state !== 'draining') {
      await closeDrain(ctx.ledger, { ...h, state: 'gone', reason: `the host is ${state ?? 'unknown'}`, at: now });
      continue;
    }
    ctx.log.info({ provider: p.name, host: h.host, instance: h.instanceId }, `scaling ${p.name}: draining idle host ${h.host}`);
    await tell(ctx, [event(p, 'drain', now, { host: h.host, instance: h.instanceId, reason: `idle for ${ctx.config.idleMs / 1000} s or more` })]);
  }
}

/** A provider's failure: backed off (doubling from the evaluation interval, capped), logged and told with its code. */
async function failed(ctx: ServiceContext, p: Closable, memory: ScalerMemory, err: unknown, step: string): Promise<void> {
  const code = err instanceof ProviderError ? err.code : codeOf(err);
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
  const failures = (memory.backoff.get(p.name)?.failures ?? 0) + 1;
  const delayMs = backoffDelay(failures, ctx.config.evaluationMs, ctx.config.backoffMaxMs);
  const now = ctx.clock.now();
  memory.backoff.set(p.name, { failures, untilMs: now.getTime() + delayMs, code });
  ctx.log.warn({ provider: p.name, code, step, failures, retry_in_ms: delayMs }, `scaling ${p.name}: the provider failed (${code}): ${message}; backing off`);
  await tell(ctx, [event(p, 'error', now, { code, reason: `${step}: ${message}`.slice(0, 1000) })]).catch((e: unknown) => {
    ctx.log.warn({ err: e, provider: p.name }, 'the scaling error event could not be published');
  });
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length > 0 ? code.slice(0, 128) : 'internal';
}

function event(p: Closable, kind: ScalingEvent['kind'], at: Date, rest: Omit<ScalingEvent, 'provider' | 'kind' | 'at'>): ScalingEvent {
  return { provider: p.name, kind, at: at.toISOString(), ...rest };
}
