import { StringDecoder } from 'node:string_decoder';
import { Limits } from '@tangerine/contracts';

/** How often a run's new output goes out, at most: the follower's timer, armed only when there is output. */
export const LIVE_OUTPUT_INTERVAL_MS = 250;

/** One chunk as the meter gives it; the caller adds name, attempt, host and time. */
export interface MeteredChunk {
  offset: number;
  data: string;
  skipped?: number;
}

export interface MeterLimits {
  /** Characters in one chunk, at most. */
  chunkChars: number;
  /** Characters sent per second, at most (a token bucket holding one second's worth). */
  perSecond: number;
}

export const DEFAULT_METER_LIMITS: MeterLimits = Object.freeze({ chunkChars: Limits.outputChunkChars, perSecond: Limits.outputCharsPerSecond });

/**
 * The pure part of a run's live output: what to send, and when to skip. Output comes in as text (`push`); `take`
 * gives the chunks to send now. It sends at most `perSecond` characters a second (a bucket of one second's worth,
 * refilled as time passes), and holds at most that much between takes: a run that prints faster loses the oldest
 * of what it printed, counted in the next chunk's `skipped`, and the offsets go on counting it, so a reader sees
 * exactly where the gap is. Memory per run is bounded by `perSecond` characters, whatever the run prints.
 */
export class OutputMeter {
  /** Characters of output before `pending` (sent and skipped). */
  private sent = 0;
  private pending = '';
  private skipped = 0;
  private tokens: number;
  private lastRefill: number | null = null;

  constructor(private readonly limits: MeterLimits = DEFAULT_METER_LIMITS) {
    this.tokens = limits.perSecond;
  }

  /** Whether there is output not yet taken (or a skip not yet said). */
  get hasPending(): boolean {
    return this.pending.length > 0 || this.skipped > 0;
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.pending += text;
    this.trim(this.limits.perSecond);
  }

  /** Output never read at all (a file's bytes jumped over): counted as skipped characters. */
  skip(count: number): void {
    if (count <= 0) return;
    // What is pending is older than what was jumped over: it goes too, so the offsets stay in order.
    this.skipped += this.pending.length + count;
    this.sent += this.pending.length + count;
    this.pending = '';
  }

  /** The chunks to send at `nowMs`: as much of what is pending as the bucket allows, newest kept. */
  take(nowMs: number): MeteredChunk[] {
    this.refill(nowMs);
    this.trim(Math.floor(this.tokens));
    if (this.pending.length === 0 && this.skipped === 0) return [];
    const chunks: MeteredChunk[] = [];
    const text = this.pending;
    let offset = this.sent;
    const first = this.skipped;
    for (let i = 0; i < text.length || (i === 0 && first > 0); i += this.limits.chunkChars) {
      const data = text.slice(i, i + this.limits.chunkChars);
      chunks.push({ offset, data, ...(i === 0 && first > 0 ? { skipped: first } : {}) });
      offset += data.length;
    }
    this.tokens -= text.length;
    this.sent += text.length;
    this.pending = '';
    this.skipped = 0;
    return chunks;
  }

  /** Keeps the newest `max` pending characters, counting the rest as skipped. */
  private trim(max: number): void {
    const over = this.pending.length - Math.max(0, max);
    if (over <= 0) return;
    this.pending = this.pending.slice(over);
    this.skipped += over;
    this.sent += over;
  }

  private refill(nowMs: number): void {
    if (this.lastRefill !== null) {
      const elapsed = Math.max(0, nowMs - this.lastRefill);
      this.tokens = Math.min(this.limits.perSecond, this.tokens + (elapsed * this.limits.perSecond) / 1000);
    }
    this.lastRefill = nowMs;
  }
}

/**
 * A run's live output, from its executor's bytes to its chunks on `output.<host>.<name>.<attempt>`: decoded as
 * UTF-8 (a character split across two reads is kept whole), metered, and sent at most every
 * LIVE_OUTPUT_INTERVAL_MS by one timer that runs only while there is something to send. A run that prints nothing
 * costs no timer and no message.
 */
export class LiveOutput {
  private readonly decoder = new StringDecoder('utf8');
  private readonly meter: OutputMeter;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(
    private readonly send: (chunk: MeteredChunk) => void,
    private readonly now: () => number = Date.now,
    limits: MeterLimits = DEFAULT_METER_LIMITS,
    private readonly intervalMs = LIVE_OUTPUT_INTERVAL_MS,
  ) {
    this.meter = new OutputMeter(limits);
  }

  write(bytes: Buffer): void {
    if (this.ended || bytes.length === 0) return;
    this.meter.push(this.decoder.write(bytes));
    this.arm();
  }

  /** Bytes of the output jumped over unread. */
  skip(bytes: number): void {
    if (this.ended || bytes <= 0) return;
    this.meter.skip(bytes);
    this.arm();
  }

  /** The run ended: what is pending goes now (as far as the bucket allows), and the timer stops. */
  end(): void {
    if (this.ended) return;
    this.meter.push(this.decoder.end());
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush();
  }

  private arm(): void {
    if (this.timer !== null || !this.meter.hasPending) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.intervalMs);
  }

  private flush(): void {
    for (const chunk of this.meter.take(this.now())) this.send(chunk);
  }
}
