import type { EventKind, TangerineClient, Watch, WatchEvent } from '@tangerine/client';
import type { Logger } from '@tangerine/runtime';

/** One live reader of the hub: what it wants, and where its frames go. */
export interface HubReader {
  /** Kinds it takes; null: every kind. */
  readonly kinds: ReadonlySet<EventKind> | null;
  /** Only this task's events; null: every task's. */
  readonly name: string | null;
  push(frame: string): void;
  /** The live stream ended under it (NATS away, the watch failed): it ends its response; its client resumes by id. */
  end(reason: string): void;
}

/** An event as one server-sent event: `id:` its stream sequence, `event:` its kind, `data:` its JSON. */
export function frameOf(e: WatchEvent): string {
  return `id: ${e.seq}\nevent: ${e.kind}\ndata: ${JSON.stringify(e.event)}\n\n`;
}

export function wants(reader: Pick<HubReader, 'kinds' | 'name'>, e: WatchEvent): boolean {
  if (reader.kinds !== null && !reader.kinds.has(e.kind)) return false;
  return reader.name === null || (e.kind === 'task' && e.event.name === reader.name);
}

/**
 * The live event streams of one api process share one ordered consumer of TANGERINE_EVENTS: each event is read
 * once from NATS and written as a frame once, then handed to every reader that wants it. One consumer per client
 * made the server deliver, and this process parse, every event once per client (100 clients at 1,000 events/s:
 * 100,000 deliveries a second). A client that resumes (Last-Event-ID) reads through a consumer of its own from its
 * position instead (routes/events.ts). The consumer starts with the first reader and stops with the last.
 */
export class EventHub {
  private readonly readers = new Set<HubReader>();
  private watch: Watch | null = null;
  private starting: Promise<Watch> | null = null;

  constructor(private readonly client: TangerineClient, private readonly log: Logger) {}

  get size(): number {
    return this.readers.size;
  }

  /** Adds a reader; resolves with the stream sequence its events come after, and its leave. */
  async join(reader: HubReader): Promise<{ after: number; leave: () => void }> {
    this.readers.add(reader);
    try {
      const w = await this.running();
      return { after: w.lastSeq ?? 0, leave: () => this.leave(reader) };
    } catch (err) {
      this.readers.delete(reader);
      throw err;
    }
  }

  stop(): void {
    const w = this.watch;
    this.watch = null;
    w?.stop();
    for (const r of [...this.readers]) r.end('the API is closing');
    this.readers.clear();
  }

  private running(): Promise<Watch> {
    if (this.watch) return Promise.resolve(this.watch);
    this.starting ??= this.client.watch({ from: 'now' }).then((w) => {
      this.starting = null;
      this.watch = w;
      void this.pump(w);
      return w;
    }, (err: unknown) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  private async pump(w: Watch): Promise<void> {
    let reason = 'the live event stream ended';
    try {
      for await (const e of w) {
        let frame: string | null = null;
        for (const r of this.readers) {
          if (!wants(r, e)) continue;
          frame ??= frameOf(e);
          r.push(frame);
        }
      }
    } catch (err) {
      reason = `the live event stream failed: ${(err as Error).message}`;
      this.log.warn({ err }, 'the event hub\'s watch failed; its streams end and their clients resume by id');
    } finally {
      // Stopped because its last reader left (or the app closes): nothing more to do. Ended on its own: its readers end.
      if (this.watch === w) {
        this.watch = null;
        for (const r of [...this.readers]) r.end(reason);
        this.readers.clear();
      }
    }
  }

  private leave(reader: HubReader): void {
    this.readers.delete(reader);
    if (this.readers.size > 0 || !this.watch) return;
    const w = this.watch;
    this.watch = null;
    w.stop();
  }
}
