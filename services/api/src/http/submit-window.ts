import { Limits, utf8Bytes } from '@tangerine/contracts';
import type { TangerineClient } from '@tangerine/client';
import { InFlightBatch } from '@tangerine/runtime';
import { messagesOf } from './routes/submit.js';

/**
 * The specs of concurrent one-spec requests, published together: those that arrive while earlier publishes wait for
 * JetStream's ack leave as one list message (intake judges each spec of a list on its own, as it judges a batch of
 * messages). A request is answered 202 once the message holding its spec is stored. Four publishes in flight keep
 * the stream busy while the next batch gathers.
 */
export class SubmitWindow {
  private readonly batch: InFlightBatch<{ spec: unknown; bytes: number }, void>;

  /** `budget`: the most bytes one message may take (the connection's max_payload, less headroom). */
  constructor(client: TangerineClient, budget: number) {
    this.batch = new InFlightBatch(async (items) => {
      for (const message of messagesOf(items.map((i) => i.spec), budget)) await client.submit(message);
    }, { maxItems: Limits.specsPerMessage, maxWeight: budget, weight: (i) => i.bytes, concurrency: 1 });
  }

  /** Resolves once the spec is stored (in a message of its own or in a list with others). */
  submit(spec: unknown): Promise<void> {
    return this.batch.add({ spec, bytes: utf8Bytes(JSON.stringify(spec)) + 1 });
  }
}
