import { decodeText, encode, outgoing, publishAll } from '@tangerine/bus';
import { DedupeIds, ErrorReply, HostDrained, Subjects, compile, type HostState, type ScalingEvent } from '@tangerine/contracts';
import type { ServiceContext } from './config.js';

const drained = compile(HostDrained);
const errorReply = compile(ErrorReply);
const REQUEST_TIMEOUT_MS = 5000;

/**
 * hosts.drain / hosts.undrain through host-health, as an operator's drain goes (the placer then gives the host
 * nothing new, and host-health tells hosts.events). Null when host-health knows no such host.
 */
export async function askHost(ctx: ServiceContext, which: 'drain' | 'undrain', host: string): Promise<HostState | null> {
  const def = which === 'drain' ? Subjects.hostsDrain : Subjects.hostsUndrain;
  const reply = await ctx.bus.nc.request(def.subject, encode(def.parse({ host })), { timeout: REQUEST_TIMEOUT_MS });
  const body: unknown = JSON.parse(decodeText(reply.data));
  if (errorReply.check(body)) {
    if (body.error.code === 'not_found') return null;
    throw new Error(`${def.subject} ${host}: ${body.error.code}: ${body.error.message}`);
  }
  return drained.parse(body).state;
}

/** What the autoscaler tells: each on `scaling.events.<provider>.<kind>`, with its own dedupe id. */
export async function tell(ctx: ServiceContext, events: readonly ScalingEvent[]): Promise<void> {
  if (events.length === 0) return;
  await publishAll(ctx.bus, events.map((e) => outgoing(Subjects.scalingEvents.at(e.provider, e.kind), e, DedupeIds.scaling(e))));
}
