import { publishAll, type Bus } from '@tangerine/bus';
import { Subjects, type RunDispatch, type RunExited, type RunStarted } from '@tangerine/contracts';
import { backoff, sleep, type Clock, type Logger } from '@tangerine/runtime';
import { ExecutorError, type Executor, type StartedRun } from './executor.js';
import { RecentKeys } from './recent.js';

interface Active {
  run: RunDispatch;
  started: StartedRun | null;
}

export interface RunsOptions {
  host: string;
  bus: Bus;
  log: Logger;
  clock: Clock;
  executors: ReadonlyMap<string, Executor>;
  /** A run that ends within this time is reported once, start and end together. */
  startReportDelayMs: number;
}

/**
 * The runs of one agent: starts each through its executor, follows it, and reports its start and its end.
 * A dispatch delivered again for a run it holds or finished lately changes nothing.
 */
export class Runs {
  private readonly active = new Map<string, Active>();
  private readonly finished = new RecentKeys(10000);
  private stopping = false;

  constructor(private readonly opts: RunsOptions) {}

  /** What this host runs now, for its announcements. */
  list(): { name: string; attempt: number }[] {
    return [...this.active.values()].map((a) => ({ name: a.run.name, attempt: a.run.attempt }));
  }

  /** Starts a run; resolves once it has started (or its failure to start is reported), so the dispatch may be acked. */
  async run(dispatch: RunDispatch): Promise<void> {
    const key = `${dispatch.name}:${dispatch.attempt}`;
    if (this.active.has(key) || this.finished.has(key)) return;
    const entry: Active = { run: dispatch, started: null };
    this.active.set(key, entry);
    const executor = this.opts.executors.get(dispatch.spec.executor);
    try {
      if (!executor) throw new ExecutorError(`executor: this host has no ${dispatch.spec.executor} executor`);
      entry.started = await executor.start(dispatch);
    } catch (err) {
      this.active.delete(key);
      await this.reportNotStarted(dispatch, err);
      return;
    }
    this.follow(dispatch, entry.started);
  }

  async stop(name: string, attempt: number, reason: string): Promise<void> {
    const entry = this.active.get(`${name}:${attempt}`);
    if (!entry?.started) return;
    this.opts.log.info({ task: name, attempt, host: this.opts.host, reason }, 'stopping run');
    await entry.started.stop(reason);
  }

  /** Stops retrying reports: the agent is going away; its runs go on without it. */
  detach(): void {
    this.stopping = true;
  }

  private async reportNotStarted(dispatch: RunDispatch, err: unknown): Promise<void> {
    const reason = err instanceof ExecutorError ? err.message : `could not start: ${(err as Error).message}`;
    this.opts.log.warn({ task: dispatch.name, attempt: dispatch.attempt, host: this.opts.host, reason }, 'run did not start');
    await this.report(Subjects.runExited.subject, {
      name: dispatch.name, attempt: dispatch.attempt, host: this.opts.host, exit_code: null, reason, output: '',
      started_at: null, finished_at: this.opts.clock.now().toISOString(),
    }, `exited:${dispatch.name}:${dispatch.attempt}`);
  }

  /**
   * The start report waits a moment: a run that ends within it is reported once, start and end together. The
   * dispatch is acked without waiting for either: once the container or process exists, a redelivery finds it.
   */
  private follow(dispatch: RunDispatch, started: StartedRun): void {
    const { host, log } = this.opts;
    const key = `${dispatch.name}:${dispatch.attempt}`;
    const line = { task: dispatch.name, attempt: dispatch.attempt, host };
    log.info({ ...line, run_id: started.runId }, 'run started');
    let startReported: Promise<void> | null = null;
    const timer = setTimeout(() => {
      startReported = this.report(Subjects.runStarted.subject,
        { name: dispatch.name, attempt: dispatch.attempt, host, run_id: started.runId, at: started.startedAt }, `started:${key}`);
    }, this.opts.startReportDelayMs);
    void started.done.then(async (end) => {
      log.info({ ...line, exit_code: end.exit_code, reason: end.reason }, 'run exited');
      clearTimeout(timer);
      await (startReported as Promise<void> | null)?.catch(() => undefined);
      const alone = startReported === null ? { run_id: started.runId } : {};
      await this.report(Subjects.runExited.subject, { name: dispatch.name, attempt: dispatch.attempt, host, ...end, ...alone }, `exited:${key}`);
    }).catch((err: unknown) => log.error({ ...line, err }, 'exit report lost'))
      .finally(() => {
        this.active.delete(key);
        this.finished.add(key);
      });
  }

  /** Publishes a report, retrying until NATS takes it: a result is never dropped while the agent lives. */
  private async report(subject: string, data: RunStarted | RunExited, msgId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await publishAll(this.opts.bus, [{ subject, data, msgId }]);
        return;
      } catch (err) {
        if (this.stopping && attempt > 3) throw err;
        this.opts.log.warn({ err, task: data.name, attempt: data.attempt, host: this.opts.host }, 'report not stored yet; retrying');
        await sleep(backoff(attempt, 200, 5000));
      }
    }
  }
}
