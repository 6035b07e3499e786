import { BusyError } from '@tangerine/contracts';
import type { FastifyInstance } from 'fastify';

/**
 * The long-lived responses of one app, event streams and output follows alike, bounded together by API_MAX_STREAMS:
 * each holds a subscription or an ordered consumer on the NATS server. Each is stopped when the app closes.
 */
export class OpenStreams {
  private readonly stops = new Set<() => void>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.stops.size;
  }

  /** Takes a place for a stream (`what` names it in the refusal); returns its release. */
  open(what: string, stop: () => void): () => void {
    if (this.stops.size >= this.max) {
      throw new BusyError('too_many_streams', `${what}: ${this.stops.size} streams are open (event streams and output follows), the most API_MAX_STREAMS allows; try again later`);
    }
    this.stops.add(stop);
    return () => {
      this.stops.delete(stop);
    };
  }

  stopAll(): void {
    for (const stop of [...this.stops]) stop();
  }
}

const perApp = new WeakMap<FastifyInstance, OpenStreams>();

/** The streams of this app: one count for every route module that opens them. */
export function streamsOf(app: FastifyInstance, max: number): OpenStreams {
  let streams = perApp.get(app);
  if (!streams) {
    const made = new OpenStreams(max);
    streams = made;
    perApp.set(app, made);
    app.addHook('preClose', async () => made.stopAll());
  }
  return streams;
}
