import {
  DedupeIds, Subjects, type DedupeId, type HostEvent, type Message, type Rejection, type RunStop, type TaskEvent,
} from '@tangerine/contracts';
import type { Bus } from './connection.js';
import { encode } from './codec.js';

declare const built: unique symbol;

/**
 * A message to publish on JetStream. Only `outgoing` makes one (the brand cannot be named elsewhere), from a
 * definition and a payload of its type: a payload goes out on its own subject or not at all.
 */
export interface Outgoing {
  readonly subject: string;
  readonly data: unknown;
  /** Dedupe id: JetStream drops a second message with the same id inside the stream's duplicate window. */
  readonly msgId: DedupeId;
  readonly [built]: true;
}

/** `outgoing(Subjects.cancel, request, DedupeIds.stop(name, attempt))`; a family's member: `Subjects.agentRun.at(host)`. */
export function outgoing<T>(message: Message<T>, data: NoInfer<T>, msgId: DedupeId): Outgoing {
  return { subject: message.subject, data, msgId } as Outgoing;
}

/** Publishes with every ack in flight at once; resolves when JetStream has stored them all. */
export async function publishAll(bus: Pick<Bus, 'publisher'>, messages: readonly Outgoing[]): Promise<void> {
  await Promise.all(messages.map((m) => bus.publisher.publish(m.subject, encode(m.data), m.msgId)));
}

/** A core NATS publish (no stream, no ack): a heartbeat that the next one replaces if it is lost. */
export function publishCore<T>(bus: Pick<Bus, 'nc'>, message: Message<T>, data: NoInfer<T>): void {
  bus.nc.publish(message.subject, encode(data));
}

/** A task's state change. */
export function eventMessage(event: TaskEvent): Outgoing {
  return outgoing(Subjects.events.at(event.name, event.state), event, DedupeIds.event(event));
}

export function rejectionMessage(rejection: Rejection, msgId: DedupeId): Outgoing {
  return outgoing(Subjects.rejected, rejection, msgId);
}

/** A host's state change. */
export function hostEventMessage(event: HostEvent): Outgoing {
  return outgoing(Subjects.hostEvents.at(event.host, event.state), event, DedupeIds.host(event));
}

/** Tells the agent of a run's host to stop it (a cancel, or a run the ledger moved on from). */
export function stopMessage(run: { host: string; name: string; attempt: number }, reason: string, msgId: DedupeId): Outgoing {
  const stop: RunStop = { name: run.name, attempt: run.attempt, host: run.host, reason };
  return outgoing(Subjects.agentStop.at(run.host), stop, msgId);
}
