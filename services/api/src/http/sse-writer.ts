import type { ServerResponse } from 'node:http';

/** Frames a live stream may hold for a client that does not read (4 MiB): beyond it the stream ends, and resumes by id. */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024;

/**
 * Writes a stream's frames to its response in batches: the frames that came in one turn of the event loop go out in
 * one write (1,000 events/s to 100 clients is 100,000 frames a second, and a write each cost more than the rest).
 * A client that does not keep up is not waited for (the others would wait too): its frames wait here, bounded, and
 * past the bound its stream ends with a comment; it comes back with Last-Event-ID and catches up on its own consumer.
 */
export class SseWriter {
  private pending: string[] = [];
  private bytes = 0;
  private scheduled = false;
  private blocked = false;
  private ended = false;
  /** Frames wait until the response's head is written (`open`). */
  private opened = false;

  constructor(private readonly res: ServerResponse, private readonly onEnd: () => void) {}

  /** The head and first bytes are written: frames may go. */
  open(): void {
    this.opened = true;
    if (this.pending.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  push(frame: string): void {
    if (this.ended || this.res.destroyed) return;
    this.pending.push(frame);
    this.bytes += frame.length;
    if (this.bytes > MAX_PENDING_BYTES) {
      this.end('the client reads too slowly; reconnect with Last-Event-ID');
      return;
    }
    if (this.opened && !this.scheduled && !this.blocked) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes a comment and ends the response. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.pending = [];
    if (!this.res.destroyed && this.opened) this.res.end(`: ${reason}\n\n`);
    this.onEnd();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.ended || this.pending.length === 0 || this.res.destroyed) return;
    const text = this.pending.join('');
    this.pending = [];
    this.bytes = 0;
    if (!this.res.write(text)) {
      this.blocked = true;
      this.res.once('drain', () => {
        this.blocked = false;
        if (this.pending.length > 0 && !this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.flush());
        }
      });
    }
  }
}
