import { Limits } from '@tangerine/contracts';

/** Keeps the last `limit` bytes written to it: a run's output without holding all of it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = Limits.outputBytes) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    const tail = all.length > this.limit ? all.subarray(all.length - this.limit) : all;
    return tail.toString('utf8');
  }
}

/**
 * Docker multiplexes stdout and stderr of a container without a TTY into frames with an 8-byte header
 * (stream type, 3 zero bytes, big-endian length). This takes the payloads out, in order.
 */
export function demux(buffer: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  if (buffer.length > 0 && buffer.length < 8) return [buffer];
  while (offset + 8 <= buffer.length) {
    const type = buffer[offset];
    const length = buffer.readUInt32BE(offset + 4);
    if (type === undefined || type > 2 || offset + 8 + length > buffer.length) {
      // Not multiplexed (a TTY container): the whole rest is output.
      out.push(buffer.subarray(offset));
      return out;
    }
    out.push(buffer.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  // A trailing piece shorter than a header cannot be a frame: keep it as output.
  if (offset < buffer.length) out.push(buffer.subarray(offset));
  return out;
}
