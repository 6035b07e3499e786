import { Subjects, type TaskEvent, type Rejection } from '@tangerine/contracts';
import type { Bus } from './connection.js';
import { encode } from './codec.js';

export interface Outgoing {
  subject: string;
  data: unknown;
  /** Dedupe id: JetStream drops a second message with the same id inside the stream's duplicate window. */
  msgId: string;
}

/** Publishes with every ack in flight at once; resolves when JetStream has stored them all. */
export async function publishAll(bus: Pick<Bus, 'publisher'>, messages: readonly Outgoing[]): Promise<void> {
  await Promise.all(messages.map((m) => bus.publisher.publish(m.subject, encode(m.data), m.msgId)));
}

/** The id of a state change: the row's version only ever grows, so it is unique per change. */
export function eventMessage(event: TaskEvent): Outgoing {
  return { subject: Subjects.events.make(event.name, event.state), data: event, msgId: `${event.name}:${event.version}:${event.state}` };
}

export function rejectionMessage(rejection: Rejection, msgId: string): Outgoing {
  return { subject: Subjects.rejected.subject, data: rejection, msgId };
}
