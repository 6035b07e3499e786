import os from 'node:os';
import { consumeBatches, decode, encode, publishAll, type JsMsg } from '@tangerine/bus';
import { Streams, Subjects, Validators, type HostAnnounce, type RunDispatch, type RunExited, type RunStarted } from '@tangerine/contracts';
import type { AgentContext } from '@tangerine/platform';
import { backoff, sleep, type Stop } from '@tangerine/runtime';
import { DockerExecutor } from './docker-executor.js';
import { ExecutorError, type Executor, type StartedRun } from './executor.js';
import { Launcher } from './launcher.js';
import { ProcessExecutor } from './process-executor.js';
import { RecentKeys } from './recent.js';

interface Active {
  run: RunDispatch;
  started: StartedRun | null;
}

/**
 * agent: one per host. Announces its host id, labels and slots; takes the runs the placer sends to its host;
 * runs each through the docker or process executor; reports start, exit code and the output's last 64 KiB.
 */
export async function start(ctx: AgentContext): Promise<Stop> {
  const { config, log } = ctx;
  const host = config.hostId;
  const executors = new Map<string, Executor>();
  const launcher = config.executors.includes('process') ? await Launcher.start(log) : null;
  if (config.executors.includes('process')) {
    if (!launcher) log.warn({ host }, 'python3 not found: the process executor spawns from the agent itself (slower)');
    executors.set('process', new ProcessExecutor(config.stopGraceMs, launcher));
  }
  if (config.executors.includes('docker')) {
    const docker = DockerExecutor.connect(config.dockerHost, config.stopGraceMs);
    if (await docker.available()) executors.set('docker', docker);
    else log.warn({ host }, 'no Docker engine answers: this agent runs only the process executor');
  }
  const active = new Map<string, Active>();
  /** Runs this agent finished lately: a dispatch sent again for one of them is not run twice. */
  const finished = new RecentKeys(10000);
  const abort = new AbortController();
  const cpu = os.cpus().length;
  const memory = Math.floor(os.totalmem() / 1024 / 1024);

  const announce = (): void => {
    const message: HostAnnounce = {
      host, labels: { ...config.hostLabels }, slots: config.hostSlots, executors: [...executors.keys()], cpu, memory,
      running: [...active.values()].map((a) => ({ name: a.run.name, attempt: a.run.attempt })),
      at: ctx.clock.now().toISOString(),
    };
    ctx.bus.nc.publish(Subjects.hostAnnounce.subject, encode(message));
  };
  announce();
  const heartbeat = setInterval(announce, config.heartbeatMs);

  /** Publishes a report, retrying until NATS takes it: a result is never dropped. */
  const report = async (subject: string, data: RunStarted | RunExited, msgId: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await publishAll(ctx.bus, [{ subject, data, msgId }]);
        return;
      } catch (err) {
        if (abort.signal.aborted && attempt > 3) throw err;
        log.warn({ err, task: data.name, attempt: data.attempt, host }, 'report not stored yet; retrying');
        await sleep(backoff(attempt, 200, 5000));
      }
    }
  };

  /** Starts a run; resolves once it has started (or its failure to start is reported), so the dispatch may be acked. */
  const run = async (dispatch: RunDispatch): Promise<void> => {
    const key = `${dispatch.name}:${dispatch.attempt}`;
    const line = { task: dispatch.name, attempt: dispatch.attempt, host };
    if (active.has(key) || finished.has(key)) return; // a redelivery of a run we hold or held
    const entry: Active = { run: dispatch, started: null };
    active.set(key, entry);
    const executor = executors.get(dispatch.spec.executor);
    try {
      if (!executor) throw new ExecutorError(`executor: this host has no ${dispatch.spec.executor} executor`);
      entry.started = await executor.start(dispatch);
    } catch (err) {
      active.delete(key);
      const reason = err instanceof ExecutorError ? err.message : `could not start: ${(err as Error).message}`;
      log.warn({ ...line, reason }, 'run did not start');
      const now = ctx.clock.now().toISOString();
      await report(Subjects.runExited.subject,
        { name: dispatch.name, attempt: dispatch.attempt, host, exit_code: null, reason, output: '', started_at: null, finished_at: now },
        `exited:${key}`);
      return;
    }
    const started = entry.started;
    log.info({ ...line, run_id: started.runId }, 'run started');
    // The start report waits a moment: a run that ends within it is reported once, start and end together. The
    // dispatch is acked without waiting for either: once the container or process exists, a redelivery finds it.
    let startReported: Promise<void> | null = null;
    const reportStart = (): Promise<void> => report(Subjects.runStarted.subject,
      { name: dispatch.name, attempt: dispatch.attempt, host, run_id: started.runId, at: started.startedAt }, `started:${key}`);
    const startTimer = setTimeout(() => { startReported = reportStart(); }, config.startReportDelayMs);
    void started.done.then(async (end) => {
      log.info({ ...line, exit_code: end.exit_code, reason: end.reason }, 'run exited');
      clearTimeout(startTimer);
      await (startReported as Promise<void> | null)?.catch(() => undefined);
      const alone = startReported === null ? { run_id: started.runId } : {};
      await report(Subjects.runExited.subject, { name: dispatch.name, attempt: dispatch.attempt, host, ...end, ...alone }, `exited:${key}`);
    }).catch((err: unknown) => log.error({ ...line, err }, 'exit report lost'))
      .finally(() => {
        active.delete(key);
        finished.add(key);
      });
  };

  const stopRun = async (name: string, attempt: number, reason: string): Promise<void> => {
    const entry = active.get(`${name}:${attempt}`);
    if (!entry?.started) return;
    log.info({ task: name, attempt, host, reason }, 'stopping run');
    await entry.started.stop(reason);
  };

  /** Hands each message over and acks it once its run has started: the consumer never waits for a slow start. */
  const handle = async (batch: JsMsg[]): Promise<void> => {
    for (const m of batch) {
      void (async () => {
        if (m.subject.endsWith('.run')) await run(decode(m.data, Validators.runDispatch));
        else if (m.subject.endsWith('.stop')) {
          const stop = decode(m.data, Validators.runStop);
          // Stopping waits for the container to end; the consumer need not.
          void stopRun(stop.name, stop.attempt, stop.reason).catch((err: unknown) => log.warn({ err, task: stop.name, host }, 'stop failed'));
        }
      })().then(() => m.ack(), (err: unknown) => {
        log.error({ err, subject: m.subject, host }, 'dispatch could not be handled; terminating it');
        m.term();
      });
    }
  };

  const stopConsumer = await consumeBatches({
    bus: ctx.bus,
    stream: Streams.dispatch.name,
    durable: `agent-${host}`,
    filter: Subjects.agentAll(host),
    batchSize: Math.max(1, Math.min(config.batchSize, config.hostSlots * 2)),
    ackWaitMs: config.ackWaitMs,
    log,
    handle,
    ack: 'manual',
  });
  log.info({ host, labels: config.hostLabels, slots: config.hostSlots, executors: [...executors.keys()] }, 'agent ready');

  return async () => {
    clearInterval(heartbeat);
    await stopConsumer();
    // Runs keep going on the host; their reports wait for this agent's return (the agent restart follows them).
    abort.abort();
    launcher?.close();
  };
}
