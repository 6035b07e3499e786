import { randomBytes } from 'node:crypto';
import { outgoing, publishAll, publishCore, type Bus } from '@tangerine/bus';
import { DedupeIds, Subjects, type DedupeId, type Message, type RunDispatch, type RunExited, type RunStarted } from '@tangerine/contracts';
import { backoff, sleep, type Clock, type Logger } from '@tangerine/runtime';
import { ExecutorError, StartedBeforeError, type AdoptedRun, type Executor, type StartedRun } from './executor.js';
import type { RunFiles } from './files.js';
import { LiveOutput } from './live-output.js';
import { RecentKeys } from './recent.js';
import { MAX_TIMER_MS, timedOutEnd, timeLeftMs, timeoutReason } from './timeout.js';

/** One run this agent holds: dispatched to it, or adopted from a previous agent of this host. */
interface Active {
  name: string;
  attempt: number;
  /** Seconds the run may take (the spec's `timeout`, or an adopted container's label); null: no limit. */
  timeout: number | null;
  /** Null while the executor starts it. */
  started: StartedRun | null;
  /** The reason of a stop that came while the run was starting: it is stopped once started. */
  pendingStop: string | null;
  /** Its timeout fired before it ended: it is reported with exit code 124, whatever its kill left. */
  timedOut: boolean;
  /** A stop was asked for it (cancel, stale): it ends for that reason, and is reported as it ends. */
  stopAsked: boolean;
  timeoutTimer: NodeJS.Timeout | null;
  startReportTimer: NodeJS.Timeout | null;
  /** Its executor's runs go on without the agent (containers, adopted by the next agent of the host). */
  outlivesAgent: boolean;
  /** Set when the agent's stop ends the run: it is reported lost with this reason, not as its own exit. */
  endedByStop: string | null;
  /** Its end has come (the report may still be on its way). */
  ended: boolean;
  /** Resolves once its end is reported (or the report given up) and what it left is cleaned up. */
  settled: Promise<void> | null;
  /** Ends the following of its live output (a last read, the last chunk sent); null when not followed. */
  stopLive: (() => void) | null;
}

export interface RunsOptions {
  host: string;
  bus: Bus;
  log: Logger;
  clock: Clock;
  executors: ReadonlyMap<string, Executor>;
  /** A run that ends within this time is reported once, start and end together. */
  startReportDelayMs: number;
  /** Fetches the files of a run into its working directory, and removes it after; none: no run may have files. */
  files?: RunFiles;
}

const keyOf = (name: string, attempt: number): string => `${name}:${attempt}`;

/**
 * The runs of one agent: starts each through its executor (or adopts it from the agent before), follows it,
 * kills it when its timeout comes, and reports its start and its end. A dispatch delivered again for a run it
 * holds or finished lately changes nothing.
 */
export class Runs {
  private readonly active = new Map<string, Active>();
  private readonly finished = new RecentKeys(10000);
  /** Runs whose executor's start is under way. */
  private readonly starting = new Set<Promise<void>>();
  private stopping = false;
  /** This agent process's part of its reports' dedupe ids (see DedupeIds.started): 64 random bits, never published. */
  private readonly session = randomBytes(8).toString('hex');

  constructor(private readonly opts: RunsOptions) {}

  /** What this host runs now, for its announcements: dispatched and adopted runs alike. */
  list(): { name: string; attempt: number }[] {
    return [...this.active.values()].map((a) => ({ name: a.name, attempt: a.attempt }));
  }

  /** How many runs take a slot now. */
  count(): number {
    return this.active.size;
  }

  /** False once the agent is stopping: it takes no more runs. */
  get accepting(): boolean {
    return !this.stopping;
  }

  /**
   * Starts a run; resolves once it has started (or its failure to start is reported), so the dispatch may be acked.
   * Resolves false, doing nothing, when the agent is stopping: the dispatch is left to the next agent of the host.
   */
  async run(dispatch: RunDispatch): Promise<boolean> {
    if (this.stopping) return false;
    const key = keyOf(dispatch.name, dispatch.attempt);
    if (this.active.has(key) || this.finished.has(key)) return true;
    const executor = this.opts.executors.get(dispatch.spec.executor);
    const entry = newEntry(dispatch.name, dispatch.attempt, dispatch.spec.timeout ?? null, executor?.adopt !== undefined);
    this.active.set(key, entry);
    const starting = this.start(entry, executor, dispatch);
    this.starting.add(starting);
    try {
      await starting;
    } finally {
      this.starting.delete(starting);
    }
    return true;
  }

  private async start(entry: Active, executor: Executor | undefined, dispatch: RunDispatch): Promise<void> {
    const key = keyOf(entry.name, entry.attempt);
    try {
      if (!executor) throw new ExecutorError(`executor: this host has no ${dispatch.spec.executor} executor`);
      const workDir = await this.workDir(dispatch);
      entry.started = await executor.start(dispatch, workDir);
    } catch (err) {
      this.active.delete(key);
      await this.opts.files?.remove(dispatch.name, dispatch.attempt);
      await this.reportNotStarted(dispatch, err);
      return;
    }
    this.opts.log.info({ ...this.line(entry), run_id: entry.started.runId }, 'run started');
    this.follow(entry, executor.coalescesQuickRuns ? this.opts.startReportDelayMs : 0);
    if (entry.pendingStop !== null) {
      const reason = entry.pendingStop;
      // The stop waits for the run to end; the dispatch's ack need not.
      void this.stop(entry.name, entry.attempt, reason)
        .catch((err: unknown) => this.opts.log.warn({ ...this.line(entry), err }, 'stop failed'));
    }
  }

  /**
   * Takes over the runs a previous agent of this host left (found by the executors before any dispatch is
   * consumed): each is held under its `name:attempt` as a dispatched run is, so a dispatch delivered again finds
   * it, its timeout still applies, and it is reported as a fresh run is (a report the previous agent got out counts
   * first: the monitor's compare-and-set ignores the second). A run that ended while no agent was there is reported
   * at once; the monitor ignores it if its attempt is no longer current.
   */
  adopt(found: readonly AdoptedRun[]): void {
    for (const a of found) {
      const key = keyOf(a.name, a.attempt);
      if (this.active.has(key) || this.finished.has(key)) {
        this.opts.log.warn({ task: a.name, attempt: a.attempt, host: this.opts.host, run_id: a.run.runId }, 'run found twice; following the first');
        continue;
      }
      const entry = newEntry(a.name, a.attempt, a.timeout, true);
      entry.started = a.run;
      this.active.set(key, entry);
      this.opts.log.info({ ...this.line(entry), run_id: a.run.runId, running: a.running, timeout: a.timeout, started_at: a.run.startedAt }, 'run adopted');
      this.follow(entry, a.running ? 0 : null);
    }
  }

  /** Stops a run this agent holds; a stop for any other run is a no-op (it ended, or was never here). */
  async stop(name: string, attempt: number, reason: string): Promise<void> {
    const entry = this.active.get(keyOf(name, attempt));
    if (!entry) {
      this.opts.log.info({ task: name, attempt, host: this.opts.host, reason }, 'stop for a run this agent does not hold: nothing to do');
      return;
    }
    if (!entry.started) {
      entry.pendingStop = reason;
      return;
    }
    this.opts.log.info({ task: name, attempt, host: this.opts.host, reason }, 'stopping run');
    entry.stopAsked = true;
    await entry.started.stop(reason);
  }

  /**
   * The agent is stopping. It takes no more runs; the runs being started are let start; then every run that cannot
   * outlive the agent (a process: the next agent can neither wait for it nor read its exit status) is stopped, SIGTERM
   * to its process group and SIGKILL after STOP_GRACE, and reported lost (`lost: true`, reason `run_lost: the agent
   * of <host> stopped`): it did not fail on its own, so the monitor applies host health's rule (a restartable task
   * is ready again without a failure counted, any other fails). Resolves once those reports, and those of runs that
   * had already ended, are stored (or given up after a few tries: host health's boot rule catches them then). Runs
   * that outlive the agent (containers) go on and are adopted, timeout included, by the next agent of this host.
   */
  async shutdown(): Promise<void> {
    await this.endRuns(`run_lost: the agent of ${this.opts.host} stopped`, false);
  }

  /**
   * The host itself is going away (a spot interruption notice: EC2 takes the instance in 2 minutes). As `shutdown`,
   * but every run is stopped, containers too, since no next agent of this host will adopt them: each is reported lost
   * with `reason`, so that its task is ready again elsewhere (a restartable one, without a failure counted) before
   * the instance dies, not when host health misses its heartbeats.
   */
  async evacuate(reason: string): Promise<void> {
    await this.endRuns(reason, true);
  }

  private async endRuns(reason: string, containersToo: boolean): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.starting]);
    // Not one already ending for a reason of its own (its timeout, a cancel, an earlier stop): that reason is its report's.
    const ending = [...this.active.values()].filter((e) => e.started !== null && (containersToo || !e.outlivesAgent)
      && !e.ended && !e.timedOut && !e.stopAsked && e.endedByStop === null);
    for (const entry of ending) {
      entry.endedByStop = reason;
      clearTimers(entry);
    }
    if (ending.length > 0) this.opts.log.info({ host: this.opts.host, runs: ending.length, reason }, containersToo ? 'host going away: ending every run' : 'agent stopping: ending its process runs');
    await Promise.all(ending.map(async (entry) => {
      this.opts.log.info({ ...this.line(entry), reason }, 'stopping run');
      await entry.started!.stop(reason).catch((err: unknown) => this.opts.log.warn({ ...this.line(entry), err }, 'stop failed'));
    }));
    // Every run being ended is ending now; a container that has ended is being reported and removed.
    const settling = [...this.active.values()].filter((e) => containersToo || !e.outlivesAgent || e.ended);
    await Promise.all(settling.flatMap((e) => (e.settled ? [e.settled] : [])));
    for (const entry of this.active.values()) {
      clearTimers(entry);
      // A container going on without the agent: the next agent follows its output again.
      stopLiveOutput(entry);
    }
  }

  /** The run's working directory with its files, fetched now (a process run's, empty, even without); null for a container without files. */
  private async workDir(dispatch: RunDispatch): Promise<string | null> {
    const files = (dispatch.spec.files ?? []).length;
    if (files === 0 && (dispatch.spec.executor !== 'process' || !this.opts.files)) return null;
    if (!this.opts.files) throw new ExecutorError('files: this agent cannot place files in a run\'s working directory');
    return this.opts.files.prepare(dispatch);
  }

  private line(entry: Active): { task: string; attempt: number; host: string } {
    return { task: entry.name, attempt: entry.attempt, host: this.opts.host };
  }

  /**
   * A run that could not start is reported as ended without an exit code. One an earlier agent of this host started
   * (its dispatch came again after that agent died) is reported lost: its end cannot be known, and starting it a
   * second time would run the same attempt twice. An exit report that did get out is ahead of this one in the
   * stream, and wins: the run is closed and the task moved on when this one comes.
   */
  private async reportNotStarted(dispatch: RunDispatch, err: unknown): Promise<void> {
    const lost = err instanceof StartedBeforeError;
    const reason = lost ? `run_lost: ${err.message}, which died before reporting it`
      : err instanceof ExecutorError ? err.message : `could not start: ${(err as Error).message}`;
    this.opts.log.warn({ task: dispatch.name, attempt: dispatch.attempt, host: this.opts.host, reason }, lost ? 'run lost' : 'run did not start');
    await this.report(Subjects.runExited.at(this.opts.host), {
      name: dispatch.name, attempt: dispatch.attempt, host: this.opts.host, exit_code: null, reason, output: '',
      started_at: null, finished_at: this.opts.clock.now().toISOString(), ...(lost ? { lost } : {}),
    }, DedupeIds.exited(this.session, dispatch.name, dispatch.attempt));
  }

  /**
   * Reports the start after `startDelayMs` (null: never, an adopted run that had already ended): a run that ends
   * within it is reported once, start and end together. The dispatch is acked without waiting for either: once the
   * container or process exists, a redelivery finds it.
   */
  private follow(entry: Active, startDelayMs: number | null): void {
    const started = entry.started!;
    const { host, log } = this.opts;
    const { name, attempt } = entry;
    const key = keyOf(name, attempt);
    const line = this.line(entry);
    let startReported: Promise<void> | null = null;
    if (startDelayMs !== null) {
      const reportStart = (): void => {
        startReported = this.report(
          Subjects.runStarted.at(host), { name, attempt, host, run_id: started.runId, at: started.startedAt }, DedupeIds.started(this.session, name, attempt),
        );
      };
      if (startDelayMs > 0) {
        entry.startReportTimer = setTimeout(() => {
          entry.startReportTimer = null;
          reportStart();
        }, startDelayMs);
      } else {
        reportStart();
      }
      this.armTimeout(entry);
    }
    entry.stopLive = startDelayMs !== null ? this.followOutput(entry, started) : null;
    entry.settled = started.done.then(async (raw) => {
      // Decided here, in the same turn as the end: a timer that fires later finds no timer to fire.
      clearTimers(entry);
      // Its last live output goes before its exit report, so a follower has it before the task's end event.
      stopLiveOutput(entry);
      entry.ended = true;
      const { lost: launcherLost, ...own } = raw;
      const lost = entry.endedByStop ?? launcherLost ?? null;
      const end = lost !== null ? { ...own, exit_code: null, reason: lost, lost: true }
        : entry.timedOut && entry.timeout !== null ? timedOutEnd(own, entry.timeout) : own;
      if (entry.endedByStop !== null) log.warn({ ...line, reason: lost, ended_by: raw.reason ?? `exit code ${raw.exit_code}` }, 'run lost: ended by the agent\'s stop');
      else if (lost !== null) log.warn({ ...line, reason: lost }, 'run lost');
      else log.info({ ...line, exit_code: end.exit_code, reason: end.reason }, 'run exited');
      await (startReported as Promise<void> | null)?.catch(() => undefined);
      const alone = startReported === null ? { run_id: started.runId } : {};
      // One report per attempt (one dedupe id), lost or not.
      await this.report(Subjects.runExited.at(host), { name, attempt, host, ...end, ...alone }, DedupeIds.exited(this.session, name, attempt));
      await started.cleanup?.();
    }).catch((err: unknown) => log.error({ ...line, err }, 'exit report lost'))
      .then(() => this.opts.files?.remove(name, attempt))
      .finally(() => {
        this.active.delete(key);
        this.finished.add(key);
      });
  }

  /**
   * Publishes the run's output while it runs on `output.<host>.<name>.<attempt>` (core NATS: no one listening, no
   * cost beyond the publish), through a LiveOutput that bounds it. Returns the stop: the follower reads what is left
   * and lets go, the last chunk goes out.
   */
  private followOutput(entry: Active, started: StartedRun): (() => void) | null {
    if (!started.follow) return null;
    const { host, bus, clock, log } = this.opts;
    const { name, attempt } = entry;
    const subject = Subjects.liveOutput.at(host, name, attempt);
    let warned = false;
    const live = new LiveOutput((chunk) => {
      try {
        publishCore(bus, subject, { name, attempt, host, ...chunk, at: clock.now().toISOString() });
      } catch (err) {
        // A closed connection: the output is a convenience, the exit report (retried) is what counts.
        if (!warned) log.warn({ ...this.line(entry), err }, 'live output not sent');
        warned = true;
      }
    });
    const stopFollowing = started.follow(live);
    return () => {
      stopFollowing();
      live.end();
    };
  }

  /** Kills the run once its timeout has passed since its start; a timeout longer than one timer takes is re-armed. */
  private armTimeout(entry: Active): void {
    const seconds = entry.timeout;
    if (seconds === null || entry.started === null || this.stopping) return;
    const left = timeLeftMs(seconds, entry.started.startedAt, this.opts.clock.now());
    entry.timeoutTimer = setTimeout(() => {
      entry.timeoutTimer = null;
      if (left > MAX_TIMER_MS) this.armTimeout(entry);
      else this.timeOut(entry, seconds);
    }, Math.min(left, MAX_TIMER_MS));
  }

  private timeOut(entry: Active, seconds: number): void {
    entry.timedOut = true;
    const reason = timeoutReason(seconds);
    this.opts.log.warn({ ...this.line(entry), timeout: seconds }, 'run timed out; killing it');
    void entry.started?.stop(reason, { kill: true })
      .catch((err: unknown) => this.opts.log.warn({ ...this.line(entry), err }, 'kill after timeout failed'));
  }

  /** Publishes a report, retrying until NATS takes it: a result is never dropped while the agent lives. */
  private async report<T extends RunStarted | RunExited>(message: Message<T>, data: NoInfer<T>, msgId: DedupeId): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await publishAll(this.opts.bus, [outgoing(message, data, msgId)]);
        return;
      } catch (err) {
        if (this.stopping && attempt > 3) throw err;
        this.opts.log.warn({ err, task: data.name, attempt: data.attempt, host: this.opts.host }, 'report not stored yet; retrying');
        await sleep(backoff(attempt, 200, 5000));
      }
    }
  }
}

function newEntry(name: string, attempt: number, timeout: number | null, outlivesAgent: boolean): Active {
  return {
    name, attempt, timeout, started: null, pendingStop: null, timedOut: false, stopAsked: false, timeoutTimer: null,
    startReportTimer: null, outlivesAgent, endedByStop: null, ended: false, settled: null, stopLive: null,
  };
}

function clearTimers(entry: Active): void {
  if (entry.timeoutTimer) clearTimeout(entry.timeoutTimer);
  if (entry.startReportTimer) clearTimeout(entry.startReportTimer);
  entry.timeoutTimer = null;
  entry.startReportTimer = null;
}

function stopLiveOutput(entry: Active): void {
  const stop = entry.stopLive;
  entry.stopLive = null;
  stop?.();
}
