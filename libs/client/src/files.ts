import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JetStreamClient } from '@nats-io/jetstream';
import { Objm, type ObjectInfo, type ObjectStore } from '@nats-io/obj';
import { FILES_BUCKET, Limits, SHA256_RE, fileNameRule, type TaskFile } from '@tangerine/contracts';
import { InvalidRequestError, NotStoredError, ServerError } from './errors.js';

/** What `putFile` takes: the bytes, a stream of them, or the path of a file. */
export type FileSource = Uint8Array | Readable | AsyncIterable<Uint8Array> | string;

export interface PutFileOptions {
  /** The name the run sees; by default the file's base name for a path, else the digest. */
  name?: string;
  /** Refuse a file larger than this (default FILES_MAX_BYTES's default, 64 MiB: intake refuses a larger one). */
  maxBytes?: number;
}

const SUBJECT = `$O.${FILES_BUCKET}`;

/** The object's digest as nats.js writes it (`SHA-256=` and base64url, padded) for a hex sha256. */
export function objectDigest(sha256: string): string {
  return `SHA-256=${Buffer.from(sha256, 'hex').toString('base64url')}${'='.repeat((4 - (43 % 4)) % 4)}`;
}

/** Is this object stored, whole, under its digest? A deleted marker or other bytes under the name do not count. */
function holds(info: ObjectInfo | null, sha256: string, size: number): boolean {
  return info !== null && !info.deleted && info.size === size && info.digest === objectDigest(sha256);
}

export class FileStore {
  private store: Promise<ObjectStore> | null = null;
  /** `idleMs`: how long a read waits for the next chunk (nats.js's reader would wait without end for a deleted one's). */
  constructor(private readonly js: JetStreamClient, private readonly idleMs = 5000) {}

  private async open(): Promise<ObjectStore> {
    this.store ??= new Objm(this.js).open(FILES_BUCKET).catch((err: unknown) => {
      this.store = null;
      throw new NotStoredError(`the files' object store ${FILES_BUCKET} is not there (is Tangerine running?): ${String(err)}`, { subject: SUBJECT, cause: err });
    });
    return this.store;
  }

  /**
   * Stores a file in the object store under the sha256 of its bytes, and returns the entry a spec's `files` takes. A
   * file already stored (the same digest and size) is not sent again. A path is read twice (once for its digest,
   * once to store it, as a stream); a stream is copied to a temporary file while its digest is computed, so no file
   * is held in memory. The digest nats.js computes while it stores the chunks must be the one of the name.
   */
  async put(source: FileSource, options: PutFileOptions = {}): Promise<TaskFile> {
    const maxBytes = options.maxBytes ?? Limits.fileBytes;
    if (typeof source === 'string') return this.putPath(source, options.name ?? path.basename(source), maxBytes);
    if (source instanceof Uint8Array) {
      tooLarge(source.length, maxBytes);
      const sha256 = createHash('sha256').update(source).digest('hex');
      const name = nameOf(options.name ?? sha256);
      await this.store_(sha256, source.length, () => Readable.from([source]));
      return { name, sha256, size: source.length };
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'tangerine-put-'));
    try {
      const spool = path.join(dir, 'file');
      let size = 0;
      await pipeline(Readable.from(source), async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          size += chunk.length;
          if (size > maxBytes) throw new InvalidRequestError('file', `file: must be at most ${maxBytes} bytes (FILES_MAX_BYTES; the stream gave more)`);
          yield chunk;
        }
      }, createWriteStream(spool));
      return await this.putPath(spool, options.name ?? null, maxBytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async putPath(file: string, givenName: string | null, maxBytes: number): Promise<TaskFile> {
    let size: number;
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new InvalidRequestError('file', `file: ${JSON.stringify(file)} is not a file`);
      size = s.size;
    } catch (err) {
      if (err instanceof InvalidRequestError) throw err;
      throw new InvalidRequestError('file', `file: cannot read ${JSON.stringify(file)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    tooLarge(size, maxBytes);
    const hash = createHash('sha256');
    let read = 0;
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
    const sha256 = hash.digest('hex');
    const name = nameOf(givenName ?? sha256);
    await this.store_(sha256, read, () => createReadStream(file));
    return { name, sha256, size: read };
  }

  private async store_(sha256: string, size: number, open: () => Readable): Promise<void> {
    const os = await this.open();
    try {
      if (holds(await os.info(sha256), sha256, size)) return;
      const info = await os.put({ name: sha256 }, Readable.toWeb(open()) as ReadableStream<Uint8Array>);
      if (!holds(info, sha256, size)) {
        throw new NotStoredError(`the file changed while it was stored (its name says sha256 ${sha256}, ${size} bytes; `
          + `${info.size} bytes were stored, digest ${info.digest}): store it again`, { subject: SUBJECT });
      }
    } catch (err) {
      if (err instanceof NotStoredError) throw err;
      throw new NotStoredError(`sha256 ${sha256}: ${err instanceof Error ? err.message : String(err)}`, { subject: SUBJECT, cause: err });
    }
  }

  /** The bytes of a stored file, checked against its digest; a ServerError `not_found` when none is stored. */
  async get(sha256: string): Promise<Uint8Array> {
    if (!SHA256_RE.test(sha256)) throw new InvalidRequestError('sha256', `sha256: must match ${SHA256_RE.source} (got ${JSON.stringify(sha256.slice(0, 80))})`);
    const os = await this.open();
    const notFound = (): ServerError => new ServerError({ code: 'not_found', field: 'sha256', message: `sha256: no file ${sha256} is stored` }, { subject: SUBJECT });
    const result = await os.get(sha256);
    if (result === null) throw notFound();
    const reader = Readable.fromWeb(result.data as Parameters<typeof Readable.fromWeb>[0]);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const idle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => reader.destroy(notFound()), this.idleMs);
    };
    try {
      idle();
      for await (const chunk of reader) {
        chunks.push(chunk as Buffer);
        idle();
      }
    } finally {
      clearTimeout(timer);
    }
    const data = Buffer.concat(chunks);
    if (createHash('sha256').update(data).digest('hex') !== sha256) {
      throw new ServerError({ code: 'not_found', field: 'sha256', message: `sha256: the object stored as ${sha256} holds other bytes` }, { subject: SUBJECT });
    }
    return data;
  }
}

function tooLarge(size: number, maxBytes: number): void {
  if (size > maxBytes) throw new InvalidRequestError('file', `file: must be at most ${maxBytes} bytes (FILES_MAX_BYTES; got ${size})`);
}

function nameOf(name: string): string {
  const rule = fileNameRule(name);
  if (rule !== null) throw new InvalidRequestError('name', `name: ${rule}`);
  return name;
}
