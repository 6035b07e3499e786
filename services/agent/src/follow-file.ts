import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { OutputSink } from './executor.js';
import { LIVE_OUTPUT_INTERVAL_MS } from './live-output.js';

/** Bytes read from a run's output file in one look, at most; more than that since the last look is jumped over. */
export const FILE_READ_MAX_BYTES = 64 * 1024;

/**
 * Follows a run's output file (the launcher's `out`) by looking at its size every `intervalMs`: one fstat, and a
 * read of what is new. The first look comes only after one interval, so a run that ends sooner (most process runs
 * of a busy host: 2-10 ms) costs one timer set and cleared, no file opened. Reads are synchronous: the file is on
 * tmpfs (see runDirectory) and a read is at most FILE_READ_MAX_BYTES. A file that cannot be opened or read ends the
 * following quietly: the live output is a convenience, the exit report keeps the tail.
 */
export function followFile(file: string, sink: OutputSink, intervalMs = LIVE_OUTPUT_INTERVAL_MS, maxRead = FILE_READ_MAX_BYTES): () => void {
  let fd: number | null = null;
  let position = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const buffer = Buffer.allocUnsafe(maxRead);
  const look = (): void => {
    try {
      fd ??= openSync(file, 'r');
      const size = fstatSync(fd).size;
      if (size < position) position = 0;
      if (size - position > maxRead) {
        sink.skip(size - position - maxRead);
        position = size - maxRead;
      }
      while (position < size) {
        const n = readSync(fd, buffer, 0, Math.min(maxRead, size - position), position);
        if (n <= 0) break;
        position += n;
        // A copy: the buffer is read into again at the next look.
        sink.write(Buffer.from(buffer.subarray(0, n)));
      }
    } catch {
      stopped = true;
    }
  };
  const tick = (): void => {
    timer = null;
    if (stopped) return;
    look();
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return () => {
    if (timer) clearTimeout(timer);
    timer = null;
    // What the run wrote since the last look, if the file was followed at all.
    if (!stopped && fd !== null) look();
    stopped = true;
    if (fd !== null) closeSync(fd);
    fd = null;
  };
}
