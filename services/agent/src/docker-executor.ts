import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { DOCKER_SOCKETS, normalizeHostPath, parseVolume, quote, volumeRefusal, type RunDispatch } from '@tangerine/contracts';
import { systemClock, type Clock } from '@tangerine/runtime';
import { CONTAINER_WORK_DIR } from './files.js';
import { ExecutorError, type AdoptedRun, type Executor, type OutputSink, type RunEnd, type StartedRun, type StopOptions } from './executor.js';
import { DEFAULT_CAPABILITIES, type Capability } from './sandbox.js';
import { TailBuffer, demux } from './tail.js';

/** What every container of this agent gets, whatever its spec says (see the README's Sandbox section). */
export interface ContainerSandbox {
  /** Host path prefixes a bind mount must be under, after symlinks are resolved (AGENT_VOLUMES). */
  volumes: readonly string[];
  /** Processes and threads a container may hold (AGENT_PIDS_LIMIT). */
  pidsLimit: number;
  /** Capabilities kept; all others are dropped (AGENT_CAPABILITIES). */
  capabilities: readonly Capability[];
  /** Bytes per json-file log file, two kept (AGENT_LOG_MAX_SIZE). */
  logMaxBytes: number;
}

export const DEFAULT_SANDBOX: ContainerSandbox = Object.freeze({
  volumes: Object.freeze([]), pidsLimit: 512, capabilities: DEFAULT_CAPABILITIES, logMaxBytes: 1_048_576,
});

/** The HostConfig of the sandbox: no new privileges, capabilities cut down, a pids limit, a capped log, never privileged. */
export function sandboxHostConfig(sandbox: ContainerSandbox): Docker.HostConfig {
  return {
    Privileged: false,
    SecurityOpt: ['no-new-privileges'],
    CapDrop: ['ALL'],
    CapAdd: [...sandbox.capabilities],
    PidsLimit: sandbox.pidsLimit,
    // json-file, whatever the daemon's default: the agent reads a run's output back through the logs API, which
    // drivers such as syslog or none cannot answer. Two files of max-size hold far more than the 64 KiB it keeps.
    LogConfig: { Type: 'json-file', Config: { 'max-size': String(sandbox.logMaxBytes), 'max-file': '2' } },
  };
}

/** A host path with its symlinks resolved; the part that does not exist yet (Docker creates it) is kept as written. */
async function resolveHostPath(hostPath: string): Promise<string> {
  const normal = normalizeHostPath(hostPath);
  try {
    return await realpath(normal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || normal === '/') throw err;
    return path.join(await resolveHostPath(path.dirname(normal)), path.basename(normal));
  }
}

/**
 * The Binds of a run, each host path resolved (a symlink under an allowed path may point anywhere) and checked
 * against the agent's own rule: the first one refused fails the run before anything is created.
 */
export async function checkedBinds(volumes: readonly string[], allowed: readonly string[], sockets: readonly string[]): Promise<string[]> {
  const binds: string[] = [];
  for (const [i, volume] of volumes.entries()) {
    const p = parseVolume(volume);
    const real = await resolveHostPath(p.host).catch((err: Error) => {
      throw new ExecutorError(`volume_refused: volumes[${i}] ${quote(p.host)} cannot be resolved (${err.message})`);
    });
    const written = normalizeHostPath(p.host);
    const refusal = volumeRefusal(written, allowed, sockets) ?? volumeRefusal(real, allowed, sockets);
    if (refusal !== null) {
      const via = real !== written ? ` (${quote(written)} resolves to ${quote(real)})` : '';
      throw new ExecutorError(`volume_refused: volumes[${i}] ${refusal}${via} (AGENT_VOLUMES of this agent)`);
    }
    binds.push(`${real}:${p.container}${p.readOnly ? ':ro' : ''}`);
  }
  return binds;
}

/**
 * Labels on every container Tangerine starts: an agent finds its own containers by them, and a new agent of the
 * same host adopts them with what they say (`timeout` only when the spec sets one).
 */
export const LABELS = {
  task: 'tangerine.task', attempt: 'tangerine.attempt', host: 'tangerine.host', timeout: 'tangerine.timeout',
} as const;

export function containerName(run: { name: string; attempt: number }): string {
  return `tangerine-${run.name}-${run.attempt}`;
}

/** The labels of a run's container. */
export function containerLabels(run: RunDispatch): Record<string, string> {
  return {
    [LABELS.task]: run.name, [LABELS.attempt]: String(run.attempt), [LABELS.host]: run.host,
    ...(run.spec.timeout !== null ? { [LABELS.timeout]: String(run.spec.timeout) } : {}),
  };
}

/** What a container's labels say about its run; null when they do not name a task and an attempt. */
export function runOfLabels(labels: Readonly<Record<string, string>>): { name: string; attempt: number; timeout: number | null } | null {
  const name = labels[LABELS.task];
  const attempt = Number(labels[LABELS.attempt]);
  if (!name || !Number.isInteger(attempt) || attempt < 1) return null;
  const timeout = labels[LABELS.timeout] === undefined ? Number.NaN : Number(labels[LABELS.timeout]);
  return { name, attempt, timeout: Number.isFinite(timeout) && timeout > 0 ? timeout : null };
}

/** Docker's time (nanoseconds, `0001-01-01T00:00:00Z` for never) as an ISO string, or null. */
export function dockerTime(text: string | undefined): string | null {
  if (!text || text.startsWith('0001-')) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The HTTP status of a Docker API error (dockerode puts it on the error), or 0. */
function statusOf(err: unknown): number {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : 0;
}

/**
 * Follows a container's log stream from its start (Docker keeps it: an adopted container's output comes whole, at
 * the offsets it had), its stdout and stderr frames taken apart by docker-modem's demuxStream, which keeps a frame
 * cut across two reads whole. The stream ends by itself when the container does; the stop lets go of it earlier.
 */
function followLogs(container: Docker.Container, sink: OutputSink): () => void {
  let stream: NodeJS.ReadableStream | null = null;
  let stopped = false;
  const release = (s: NodeJS.ReadableStream): void => {
    (s as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  };
  container.logs({ follow: true, stdout: true, stderr: true }).then((s) => {
    if (stopped) {
      release(s);
      return;
    }
    stream = s;
    s.on('error', () => undefined);
    const into = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (!stopped) sink.write(chunk);
        done();
      },
    });
    container.modem.demuxStream(s, into, into);
  }).catch(() => undefined);
  return () => {
    stopped = true;
    if (stream) release(stream);
    stream = null;
  };
}

/** A container that had already ended when an agent found it. */
interface Ended {
  exitCode: number;
  finishedAt: string | null;
}

/** Runs a task as a Docker container; the container is removed once its exit code and output are reported. */
export class DockerExecutor implements Executor {
  readonly coalescesQuickRuns = false;
  readonly kind = 'docker';
  private readonly pulls = new Map<string, Promise<void>>();

  /** The Docker sockets no run may mount: the usual ones and the one DOCKER_HOST names. */
  private readonly sockets: readonly string[];

  constructor(
    readonly docker: Docker, private readonly stopGraceMs = 10000, private readonly clock: Clock = systemClock,
    private readonly sandbox: ContainerSandbox = DEFAULT_SANDBOX, socketPath: string | null = null,
  ) {
    this.sockets = socketPath ? [...DOCKER_SOCKETS, socketPath] : DOCKER_SOCKETS;
  }

  static connect(dockerHost: string | null, stopGraceMs: number, clock: Clock = systemClock, sandbox: ContainerSandbox = DEFAULT_SANDBOX): DockerExecutor {
    if (!dockerHost) return new DockerExecutor(new Docker(), stopGraceMs, clock, sandbox);
    const url = new URL(dockerHost);
    if (url.protocol === 'unix:') return new DockerExecutor(new Docker({ socketPath: url.pathname }), stopGraceMs, clock, sandbox, url.pathname);
    return new DockerExecutor(new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' }), stopGraceMs, clock, sandbox);
  }

  async available(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  async start(run: RunDispatch, workDir: string | null = null): Promise<StartedRun> {
    const name = containerName(run);
    let container: Docker.Container;
    let startedBefore: string | null = null;
    try {
      container = await this.create(run, name, workDir);
    } catch (err) {
      if (err instanceof ExecutorError) throw err;
      if (statusOf(err) !== 409) throw new ExecutorError(`create container: ${(err as Error).message}`);
      // A redelivered dispatch finds the container it already made, running or ended: follow it, never start twice.
      const info = await this.docker.getContainer(name).inspect().catch((e: Error) => {
        throw new ExecutorError(`inspect container: ${e.message}`);
      });
      container = this.docker.getContainer(info.Id);
      startedBefore = dockerTime(info.State.StartedAt);
    }
    if (!startedBefore) {
      await container.start().catch((err: Error) => {
        void container.remove({ force: true }).catch(() => undefined);
        throw new ExecutorError(`start container: ${err.message}`);
      });
    }
    return this.followed(container, startedBefore ?? this.clock.now().toISOString(), null);
  }

  /**
   * Creates the run's container in one call when its image is here (the usual case: no look beforehand); Docker's
   * "no such image" (404) makes it pull the image once, then create. A name in use (409) is the caller's to handle.
   */
  private async create(run: RunDispatch, name: string, workDir: string | null): Promise<Docker.Container> {
    const image = run.spec.image;
    if (!image) throw new ExecutorError('image: is required for the docker executor');
    const options: Docker.ContainerCreateOptions = {
      name,
      Image: image,
      ...(run.spec.command.length > 0 ? { Cmd: run.spec.command } : {}),
      ...(run.spec.entrypoint ? { Entrypoint: run.spec.entrypoint } : {}),
      Env: [...Object.entries({ ...run.spec.env, ...run.spec.secret_env }).map(([k, v]) => `${k}=${v}`), `TANGERINE_TASK=${run.name}`, `TANGERINE_ATTEMPT=${run.attempt}`],
      Labels: containerLabels(run),
      // The run's files: Tangerine's own mount, not the spec's, so not under AGENT_VOLUMES' rule.
      ...(workDir !== null ? { WorkingDir: CONTAINER_WORK_DIR } : {}),
      HostConfig: {
        ...sandboxHostConfig(this.sandbox),
        Binds: [
          ...await checkedBinds(run.spec.volumes, this.sandbox.volumes, this.sockets),
          ...(workDir !== null ? [`${workDir}:${CONTAINER_WORK_DIR}`] : []),
        ],
        ...(run.spec.cpu ? { NanoCpus: Math.round(run.spec.cpu * 1e9) } : {}),
        ...(run.spec.memory ? { Memory: run.spec.memory * 1024 * 1024 } : {}),
      },
    };
    try {
      return await this.docker.createContainer(options);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    await this.ensureImage(image);
    return this.docker.createContainer(options);
  }

  /**
   * The containers a previous agent of this host left, running or ended (the agent was killed, or stopped, before
   * it had read and removed them), each followed as a fresh run is. A container that was created and never
   * started is removed instead: its dispatch was not acked, so it comes again and makes a new one.
   */
  async adopt(host: string): Promise<AdoptedRun[]> {
    const found = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.host}=${host}`] } });
    const adopted: AdoptedRun[] = [];
    for (const c of found) {
      const run = runOfLabels(c.Labels);
      if (!run) continue;
      const container = this.docker.getContainer(c.Id);
      const info = await container.inspect().catch(() => null);
      if (!info) continue;
      const startedAt = dockerTime(info.State.StartedAt);
      if (!startedAt) {
        await container.remove({ force: true }).catch(() => undefined);
        continue;
      }
      const running = info.State.Running || info.State.Restarting;
      const ended = running ? null : { exitCode: info.State.ExitCode, finishedAt: dockerTime(info.State.FinishedAt) };
      adopted.push({ ...run, running, run: this.followed(container, startedAt, ended) });
    }
    return adopted;
  }

  /** Follows a started container; `ended` when it had already ended when found. */
  private followed(container: Docker.Container, startedAt: string, ended: Ended | null): StartedRun {
    const done = this.follow(container, startedAt, ended);
    return {
      runId: container.id,
      startedAt,
      done,
      follow: (sink) => followLogs(container, sink),
      stop: async (_reason: string, options: StopOptions = {}) => {
        if (options.kill) await container.kill().catch(() => undefined);
        else await container.stop({ t: Math.ceil(this.stopGraceMs / 1000) }).catch(() => undefined);
        await done;
      },
      cleanup: async () => {
        await container.remove({ force: true }).catch(() => undefined);
      },
    };
  }

  private async follow(container: Docker.Container, startedAt: string, ended: Ended | null): Promise<RunEnd> {
    let exitCode: number | null = ended?.exitCode ?? null;
    let reason: string | null = null;
    if (!ended) {
      try {
        const result = (await container.wait()) as { StatusCode: number };
        exitCode = result.StatusCode;
      } catch (err) {
        reason = `lost the container: ${(err as Error).message}`;
      }
    }
    const output = new TailBuffer();
    try {
      const logs = (await container.logs({ stdout: true, stderr: true, follow: false, tail: 10000 })) as unknown as Buffer;
      for (const chunk of demux(Buffer.isBuffer(logs) ? logs : Buffer.from(String(logs)))) output.write(chunk);
    } catch {
      // The output is a convenience; the exit code is what matters.
    }
    const finishedAt = ended?.finishedAt ?? this.clock.now().toISOString();
    return { exit_code: exitCode, reason, output: output.toString(), started_at: startedAt, finished_at: finishedAt };
  }

  /** A missing image is pulled once, however many runs ask for it at the same time. */
  private ensureImage(image: string): Promise<void> {
    const pending = this.pulls.get(image);
    if (pending) return pending;
    const work = (async () => {
      if (await this.docker.getImage(image).inspect().then(() => true, () => false)) return;
      try {
        const stream = await this.docker.pull(image);
        await new Promise<void>((resolve, reject) => {
          this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
        });
      } catch (err) {
        throw new ExecutorError(`pull image ${image}: ${(err as Error).message}`);
      }
    })().finally(() => this.pulls.delete(image));
    this.pulls.set(image, work);
    return work;
  }
}
