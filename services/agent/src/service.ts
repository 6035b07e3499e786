import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { consumeBatches, fileStore, publishCore, type ConsumerControl, type Delivered, type JsMsg } from '@tangerine/bus';
import { Durables, Streams, Subjects, TASK_LABEL, type HostAnnounce } from '@tangerine/contracts';
import type { AgentContext } from './config.js';
import { TurnBatch, backoff, sleep, type Logger, type Metrics, type Stop } from '@tangerine/runtime';
import { setUpCgroups, tearDownCgroups, type CgroupPlan } from './cgroups.js';
import { DockerExecutor } from './docker-executor.js';
import { Ec2Metadata, type SpotNotice } from './ec2-metadata.js';
import type { Executor } from './executor.js';
import { RunFiles } from './files.js';
import { Launcher } from './launcher.js';
import { readAgentMessage, type AgentMessage } from './messages.js';
import { ProcessExecutor, runDirectory } from './process-executor.js';
import { Runs } from './runs.js';
import { resolveUser, type RunUser } from './sandbox.js';
import { watchSpotInterruption } from './spot-interruption.js';

/**
 * agent: one per host. Announces its host id, labels and slots; takes the runs the placer sends to its host;
 * runs each through the docker or process executor; reports start, exit code and the output's last 64 KiB.
 */
export async function start(ctx: AgentContext): Promise<Stop> {
  // Runs the ledger has running here that started before this moment and are not taken back below are lost.
  const boot = ctx.clock.now().toISOString();
  const { config, log } = ctx;
  const host = config.hostId;
  const metadata = config.ec2MetadataUrl === null ? null : new Ec2Metadata(config.ec2MetadataUrl);
  const labels: Record<string, string> = metadata ? await withInstanceId(metadata, ctx) : { ...config.hostLabels };
  // An agent started for one task (AGENT_ONLY_TASK) says so: the placer gives its host that task and nothing else.
  if (config.onlyTask !== null) labels[TASK_LABEL] = config.onlyTask;
  const { executors, launcher, cgroups, user } = await openExecutors(ctx);
  const files = new RunFiles(
    config.workDir ?? path.join(os.tmpdir(), `tangerine-work-${host}`), fileStore(ctx.bus.js),
    { maxBytes: config.filesMaxBytes, maxTotal: config.filesMaxTotal }, user, log,
  );
  const runs = new Runs({ host, bus: ctx.bus, log, clock: ctx.clock, executors, startReportDelayMs: config.startReportDelayMs, files });
  // Before any dispatch is taken and before the first announcement: a dispatch delivered again for an adopted run
  // finds it, and the host's first announcement already lists it.
  try {
    for (const executor of executors.values()) {
      if (executor.adopt) runs.adopt(await executor.adopt(host));
    }
  } catch (err) {
    // Starting without them would leave them unfollowed and their results unreported: better not start.
    launcher?.close();
    throw new Error(`agent ${host}: could not look for the runs a previous agent left: ${(err as Error).message}`, { cause: err });
  }
  // The working directories of runs no agent holds any more (their agent died): those of adopted runs stay.
  await files.sweep(new Set(runs.list().map((r) => `${r.name}-${r.attempt}`)));

  const cpu = os.cpus().length;
  const memory = Math.floor(os.totalmem() / 1024 / 1024);
  const announce = (): void => {
    // A stopping agent offers no slot: a task its stop requeues must go to another host, not wait in this host's
    // dispatch stream for an agent that may not come back (until HOST_TIMEOUT).
    const slots = runs.accepting ? config.hostSlots : 0;
    const message: HostAnnounce = {
      host, labels, slots, executors: [...executors.keys()], cpu, memory,
      running: runs.list(), free_slots: Math.max(0, slots - runs.count()), boot,
      at: ctx.clock.now().toISOString(),
    };
    publishCore(ctx.bus, Subjects.hostAnnounce.at(host), message);
  };
  announce();
  const heartbeat = setInterval(announce, config.heartbeatMs);

  // Shown at 0 from the start, so that a rate over them means something before the first forgery.
  for (const kind of ['run', 'stop'] as const) ctx.metrics.inc('forged_reports', 0, { kind });
  // Acks leave together at the end of a turn: the runs one read of the launcher's answers started, one write.
  const acks = new TurnBatch<JsMsg>((batch) => { for (const m of batch) m.ack(); });
  const stopConsumer = await consumeBatches<AgentMessage>({
    bus: ctx.bus,
    stream: Streams.dispatch.name,
    durable: Durables.agent(host),
    filter: Subjects.agentAll(host),
    batchSize: Math.max(1, Math.min(config.batchSize, config.hostSlots * 2)),
    ackWaitMs: config.ackWaitMs,
    // A host removed for good leaves its consumer behind: JetStream drops it once no agent has read it for this long.
    inactiveMs: Math.max(config.hostRemoveAfterMs, 3_600_000),
    log,
    metrics: ctx.metrics,
    decode: (m) => readAgentMessage(m, host),
    handle: async (batch, control) => handOver(batch, runs, acks, control, ctx, host),
    ack: 'manual',
  });
  const stopSpotWatch = metadata ? watchSpotInterruption({
    metadata, intervalMs: config.spotPollMs, host, log, onNotice: (n) => evacuate(n, runs, announce, labels['instanceId'] ?? '?', host),
  }) : null;
  log.info({ host, labels, slots: config.hostSlots, executors: [...executors.keys()] }, 'agent ready');

  return async () => {
    await stopSpotWatch?.();
    // From here no dispatch is taken (one still handed over goes back to the stream), and the host announces no
    // slot before its process runs are ended and reported lost, so the placer puts their tasks elsewhere.
    // Heartbeats go on meanwhile: the host still holds those runs.
    const ending = runs.shutdown();
    announce();
    await stopConsumer();
    await ending;
    clearInterval(heartbeat);
    announce();
    // Containers keep going on the host; the next agent of this host adopts them (see DockerExecutor.adopt).
    launcher?.close();
    tearDownCgroups(cgroups);
  };
}

/**
 * The host's labels with its EC2 instance id as `instanceId` (Tangerine's label: the autoscaler maps an instance to
 * its host by it). Asked a few times: at boot, the metadata service may answer a moment after the agent starts.
 */
async function withInstanceId(metadata: Ec2Metadata, { config, log }: AgentContext): Promise<Record<string, string>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const instanceId = await metadata.instanceId();
      const given = (config.hostLabels as Readonly<Record<string, string>>)['instanceId'];
      if (given !== undefined && given !== instanceId) log.warn({ host: config.hostId, given, instanceId }, 'HOST_LABELS instanceId replaced by the instance\'s own');
      return { ...config.hostLabels, instanceId };
    } catch (err) {
      if (attempt >= 4) throw new Error(`agent ${config.hostId}: EC2_METADATA_URL is set, but the instance id could not be read: ${(err as Error).message}`, { cause: err });
      await sleep(backoff(attempt, 500, 4000));
    }
  }
}

/**
 * A spot interruption notice: the host stops taking runs (it announces no slot at once), and every run it holds is
 * stopped and reported lost, so its task is placed elsewhere within the 2 minutes before EC2 takes the instance.
 */
async function evacuate(notice: SpotNotice, runs: Runs, announce: () => void, instanceId: string, host: string): Promise<void> {
  const ending = runs.evacuate(`run_lost: spot interruption of ${host} (instance ${instanceId}, ${notice.action} at ${notice.time})`);
  announce();
  await ending;
  announce();
}

/** The executors this host offers: process when asked for, docker when asked for and an engine answers. */
async function openExecutors(ctx: AgentContext): Promise<{
  executors: Map<string, Executor>; launcher: Launcher | null; cgroups: CgroupPlan | null; user: RunUser | null;
}> {
  const { config, log } = ctx;
  const host = config.hostId;
  const executors = new Map<string, Executor>();
  let launcher: Launcher | null = null;
  let cgroups: CgroupPlan | null = null;
  let runUser: RunUser | null = null;
  if (config.executors.includes('process')) {
    const sandbox = processSandbox(ctx);
    const { user, limitsRefused } = sandbox;
    runUser = user;
    cgroups = sandbox.cgroups;
    launcher = await Launcher.start(log, undefined, { user, cgroups });
    if (!launcher) log.warn({ host }, 'python3 not found: the process executor spawns from the agent itself (slower, and without cpu and memory limits)');
    const stream = await ctx.bus.jsm.streams.info(Streams.dispatch.name);
    executors.set('process', new ProcessExecutor(config.stopGraceMs, launcher, ctx.clock, runDirectory(host, stream.created), { user, limitsRefused }));
    log.info({
      host, user: user ? `${user.name} (uid ${user.uid}, gid ${user.gid})` : `the agent's own (uid ${process.getuid?.() ?? '?'})`,
      cgroups: cgroups ? `${cgroups.mode}: ${cgroups.hierarchies.map((h) => h.root).join(', ')}` : `none: ${limitsRefused}`,
    }, 'process executor on');
  }
  if (config.executors.includes('docker')) {
    const docker = DockerExecutor.connect(config.dockerHost, config.stopGraceMs, ctx.clock, {
      volumes: config.agentVolumes, pidsLimit: config.pidsLimit, capabilities: config.capabilities, logMaxBytes: config.logMaxBytes,
    });
    if (await docker.available()) executors.set('docker', docker);
    else log.warn({ host: config.hostId }, 'no Docker engine answers: this agent runs no containers');
  }
  return { executors, launcher, cgroups, user: runUser };
}

/**
 * The user the process runs are started as and the cgroups that enforce their cpu and memory. An agent that is not
 * root cannot switch users: its runs are its own user's, and no cgroup is made.
 */
function processSandbox(ctx: AgentContext): { user: RunUser | null; cgroups: CgroupPlan | null; limitsRefused: string | null } {
  if (process.getuid?.() !== 0) return { user: null, cgroups: null, limitsRefused: 'the agent does not run as root, so it cannot make cgroups' };
  const user = resolveUser(ctx.config.processUser, readFileSync('/etc/passwd', 'utf8'), readTextOr('/etc/group'));
  const plan = setUpCgroups(ctx.config.hostId);
  if ('reason' in plan) return { user, cgroups: null, limitsRefused: plan.reason };
  return { user, cgroups: plan, limitsRefused: null };
}

function readTextOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Hands each message over and acks it once its run has started: the consumer never waits for a slow start. */
function handOver(
  batch: Delivered<AgentMessage>[], runs: Runs, acks: TurnBatch<JsMsg>, control: ConsumerControl<AgentMessage>,
  { log, metrics }: { log: Logger; metrics: Metrics }, host: string,
): void {
  for (const d of batch) {
    void (async () => {
      const v = d.value;
      if (v.kind === 'foreign') {
        log.warn({ task: v.name, attempt: v.attempt, host, to: v.to, kind: v.what }, `refused forged ${v.what === 'run' ? 'dispatch' : 'stop'}: it names another host`);
        metrics.inc('forged_reports', 1, { kind: v.what });
      } else if (v.kind === 'run') {
        // Refused by a stopping agent: back to the stream for the next agent of the host (after a moment: at once,
        // it would come back to this agent's closing pull).
        if (!(await runs.run(v.dispatch))) return false;
      } else {
        // Stopping waits for the container to end; the consumer need not.
        void runs.stop(v.stop.name, v.stop.attempt, v.stop.reason)
          .catch((err: unknown) => log.warn({ err, task: v.stop.name, attempt: v.stop.attempt, host }, 'stop failed'));
      }
      return true;
    })().then((taken) => {
      if (taken) acks.add(d.msg);
      else d.msg.nak(1000);
    }, (err: unknown) => control.setAside(d, err));
  }
}
