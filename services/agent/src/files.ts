import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chown, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '@tangerine/bus';
import { FILES_BUCKET, quote, type FileLimits, type RunDispatch, type TaskFile } from '@tangerine/contracts';
import type { Logger } from '@tangerine/runtime';
import { ExecutorError } from './executor.js';
import type { RunUser } from './sandbox.js';

/**
 * How long a fetch waits for the next chunk of an object: nats.js's reader waits without end for chunks that are not
 * there (an object deleted while it is read), and a run must fail with a reason instead of holding its slot.
 */
export const FETCH_IDLE_MS = 30_000;

/** Where a container finds its files: its working directory, a bind mount of the run's directory on the host. */
export const CONTAINER_WORK_DIR = '/tangerine/work';

/**
 * The working directories of the runs of one agent whose spec has `files`: one directory per run under `root`
 * (AGENT_WORK_DIR), `<task>-<attempt>`, holding the files fetched from the object store, each checked against its
 * sha256 and size before the run starts. Removed once the run's end is reported (a container's after the next agent
 * adopted it), and, at start, every one that belongs to no run the agent holds (runs an agent that died left).
 */
export class RunFiles {
  constructor(
    private readonly root: string,
    private readonly store: () => Promise<ObjectStore>,
    private readonly limits: FileLimits,
    /** The user process runs are started as: the directory and its files are made theirs (null: the agent's own). */
    private readonly user: RunUser | null,
    private readonly log: Logger,
    private readonly idleMs = FETCH_IDLE_MS,
  ) {}

  dirOf(name: string, attempt: number): string {
    return path.join(this.root, `${name}-${attempt}`);
  }

  /**
   * The run's working directory with its files in it, or null when its spec has none. A missing object, one of
   * other bytes or another size, or a file over the limits is an ExecutorError (`file_missing: …`, `file_corrupt: …`,
   * `file_too_large: …`) naming the file: the run fails without starting, and is not retried.
   */
  async prepare(run: RunDispatch): Promise<string | null> {
    const files = run.spec.files ?? [];
    // A process run gets a directory of its own even without files: it starts in an empty directory of its own,
    // not in the host's shared temporary one (where it would see, and leave, other runs' files).
    if (files.length === 0 && run.spec.executor !== 'process') return null;
    let total = 0;
    files.forEach((f, i) => {
      total += f.size;
      if (f.size > this.limits.maxBytes) throw new ExecutorError(`file_too_large: files[${i}] ${quote(f.name)} is ${f.size} bytes, over this agent's FILES_MAX_BYTES (${this.limits.maxBytes})`);
    });
    if (total > this.limits.maxTotal) throw new ExecutorError(`file_too_large: files are ${total} bytes in all, over this agent's FILES_MAX_TOTAL (${this.limits.maxTotal})`);
    const dir = this.dirOf(run.name, run.attempt);
    // The root is searchable by all (the run's user must reach its own directory), listable by the agent alone.
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o700 });
    if (files.length === 0) {
      await this.own(dir);
      return dir;
    }
    // Each file is written beside the directory first, and renamed into it once checked: a run never sees half a
    // file, nor one that failed its check, and no name a task gives can meet a name of the agent's.
    const parts = `${dir}.parts`;
    await rm(parts, { recursive: true, force: true });
    await mkdir(parts, { mode: 0o700 });
    try {
      await this.own(dir);
      for (const [i, f] of files.entries()) await this.fetch(dir, path.join(parts, String(i)), f, i);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    } finally {
      await rm(parts, { recursive: true, force: true });
    }
    this.log.info({ task: run.name, attempt: run.attempt, host: run.host, files: files.length, bytes: total, dir }, 'run files fetched');
    return dir;
  }

  private async fetch(dir: string, part: string, f: TaskFile, i: number): Promise<void> {
    const what = `files[${i}] ${quote(f.name)} (sha256 ${f.sha256})`;
    let store: ObjectStore;
    try {
      store = await this.store();
    } catch (err) {
      throw new ExecutorError(`file_missing: ${what}: the object store ${FILES_BUCKET} cannot be opened (${(err as Error).message})`);
    }
    const result = await store.get(f.sha256).catch((err: Error) => {
      throw new ExecutorError(`file_missing: ${what}: reading it failed (${err.message})`);
    });
    if (result === null) throw new ExecutorError(`file_missing: ${what} is not in the object store ${FILES_BUCKET} (store it before submitting; or retention removed it)`);
    const hash = createHash('sha256');
    let size = 0;
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(), this.idleMs);
    const counted = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), this.idleMs);
        size += chunk.length;
        // A larger object is not read to its end: the spec says how much to take.
        if (size > f.size) {
          done(new ExecutorError(`file_corrupt: ${what}: the object holds more than the ${f.size} bytes the spec gives`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(result.data as Parameters<typeof Readable.fromWeb>[0]), counted, createWriteStream(part, { mode: 0o600 }), { signal: idle.signal });
    } catch (err) {
      if (err instanceof ExecutorError) throw err;
      if (idle.signal.aborted) throw new ExecutorError(`file_missing: ${what}: no data came for ${this.idleMs / 1000} s after ${size} bytes (deleted while it was read?)`);
      throw new ExecutorError(`file_corrupt: ${what}: reading it failed (${(err as Error).message.split('\n')[0]})`);
    } finally {
      clearTimeout(timer);
    }
    const digest = hash.digest('hex');
    if (size !== f.size || digest !== f.sha256) {
      throw new ExecutorError(`file_corrupt: ${what}: the object holds ${size} bytes of sha256 ${digest}, not the ${f.size} bytes the spec gives`);
    }
    await this.own(part);
    await rename(part, path.join(dir, f.name));
  }

  /** Gives a path to the run's user, when the agent is root and runs its processes as another user. */
  private async own(p: string): Promise<void> {
    if (this.user !== null && process.getuid?.() === 0) await chown(p, this.user.uid, this.user.gid);
  }

  /** Removes a run's directory (nothing when it has none). */
  async remove(name: string, attempt: number): Promise<void> {
    await rm(this.dirOf(name, attempt), { recursive: true, force: true }).catch((err: unknown) =>
      this.log.warn({ task: name, attempt, err }, 'could not remove the run\'s directory'));
  }

  /** Removes every run directory but those of the runs named (`<task>-<attempt>`): what agents before this one left. */
  async sweep(keep: ReadonlySet<string>): Promise<number> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch {
      return 0;
    }
    const gone = entries.filter((e) => !keep.has(e));
    await Promise.all(gone.map((e) => rm(path.join(this.root, e), { recursive: true, force: true })));
    if (gone.length > 0) this.log.info({ dirs: gone.length, root: this.root }, 'removed run directories left by an earlier agent');
    return gone.length;
  }
}
