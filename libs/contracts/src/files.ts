import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from './errors.js';
import { Limits, utf8Bytes } from './limits.js';
import { quote } from './validate.js';

/**
 * Files uploaded with a task (Blanket's multipart upload) live in one bucket of the JetStream object store, named by
 * content: an object's name is the sha256 of its bytes, in lowercase hex. The same bytes are stored once however
 * many tasks name them, and the agent checks what it fetched against the name before the run sees it.
 */
export const FILES_BUCKET = 'tangerine_files';
/** The stream that holds the bucket, as nats.js names it (`OBJ_<bucket>`). */
export const FILES_STREAM = `OBJ_${FILES_BUCKET}`;

export const SHA256_RE = /^[0-9a-f]{64}$/;

/** One file of a task: written into the run's working directory as `name`. */
export const TaskFile = Type.Object(
  {
    /** A plain file name: no `/`, not `.` or `..`, at most 255 bytes. */
    name: Type.String({ minLength: 1, maxLength: Limits.fileNameBytes }),
    /** The sha256 of its bytes, 64 lowercase hex digits: the object's name in FILES_BUCKET. */
    sha256: Type.String({ pattern: SHA256_RE.source }),
    /** Its size in bytes. */
    size: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type TaskFile = Static<typeof TaskFile>;

/** What a task's files may weigh: FILES_MAX_BYTES and FILES_MAX_TOTAL (intake, the client, the agent). */
export interface FileLimits {
  /** Bytes of one file. */
  maxBytes: number;
  /** Bytes of all the files of one task. */
  maxTotal: number;
}

export const DEFAULT_FILE_LIMITS: FileLimits = Object.freeze({ maxBytes: Limits.fileBytes, maxTotal: Limits.filesTotalBytes });

function invalid(field: string, rule: string): ValidationError {
  return new ValidationError('invalid_spec', `${field}: ${rule}`, { field });
}

/** Why `name` is no plain file name, or null when it is one. */
export function fileNameRule(name: string): string | null {
  if (name === '') return 'must not be empty';
  if (utf8Bytes(name) > Limits.fileNameBytes) return `must be at most ${Limits.fileNameBytes} bytes`;
  if (name.includes('/')) return `must be a plain file name, without "/" (got ${quote(name)})`;
  if (name === '.' || name === '..') return `must be a plain file name, not ${quote(name)}`;
  if (name.includes('\u0000')) return 'must not contain the NUL character';
  return null;
}

/**
 * The rules of `files` a schema cannot say (the schema has checked each entry's form): each name a plain file name
 * and unique, each size and the sum within the limits. Pure; throws a ValidationError naming the entry.
 */
export function checkFiles(files: readonly TaskFile[], limits: FileLimits = DEFAULT_FILE_LIMITS): void {
  if (files.length > Limits.filesPerTask) throw invalid('files', `must have at most ${Limits.filesPerTask} items`);
  const seen = new Set<string>();
  let total = 0;
  files.forEach((f, i) => {
    const rule = fileNameRule(f.name);
    if (rule !== null) throw invalid(`files[${i}].name`, rule);
    if (seen.has(f.name)) throw invalid(`files[${i}].name`, `${quote(f.name)} is listed twice`);
    seen.add(f.name);
    if (f.size > limits.maxBytes) throw invalid(`files[${i}].size`, `must be at most ${limits.maxBytes} bytes (FILES_MAX_BYTES; got ${f.size})`);
    total += f.size;
  });
  if (total > limits.maxTotal) throw invalid('files', `must be at most ${limits.maxTotal} bytes in all (FILES_MAX_TOTAL; got ${total})`);
}
