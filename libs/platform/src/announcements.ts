import { decode, type Bus } from '@tangerine/bus';
import { Subjects, ValidationError, type HostAnnounce } from '@tangerine/contracts';
import type { Logger, Metrics, Stop } from '@tangerine/runtime';

/** An announcement as read: from the host it names, or forged (its payload names `claimed`, its subject `from`). */
export type Announcement = { kind: 'genuine'; announce: HostAnnounce } | { kind: 'forged'; claimed: string; from: string };

/**
 * Reads an announcement from its subject and payload. The sender is the subject's host token (NATS lets each agent
 * publish only its own host's); one whose payload names another host is forged, and never counts: a fake host id
 * would attract work, a real one with a new `boot` would requeue that host's runs. Throws for one that does not read.
 */
export function readAnnouncement(subject: string, data: Uint8Array): Announcement {
  const tokens = Subjects.hostAnnounce.match(subject);
  if (!tokens) throw new ValidationError('invalid_message', `subject: ${subject} carries no host announcement`, { field: 'subject' });
  const announce = decode(data, Subjects.hostAnnounce);
  const from = tokens[0]!;
  return announce.host === from ? { kind: 'genuine', announce } : { kind: 'forged', claimed: announce.host, from };
}

/**
 * Hears every host's announcements (core NATS, `hosts.announce.*`) and hands the genuine ones to `see`. A forged one
 * is a warning "refused forged announcement" and `tangerine_forged_reports_total{kind="announce"}`; an unreadable one
 * a warning and `tangerine_announcements_refused_total`. Neither reaches `see`.
 */
export function listenToAnnouncements(
  ctx: { bus: Pick<Bus, 'nc'>; log: Logger; metrics: Metrics }, see: (announce: HostAnnounce) => void,
): Stop {
  ctx.metrics.inc('forged_reports', 0, { kind: 'announce' });
  const sub = ctx.bus.nc.subscribe(Subjects.hostAnnounce.wildcard, {
    callback: (err, msg) => {
      if (err) return;
      let a: Announcement;
      try {
        a = readAnnouncement(msg.subject, msg.data);
      } catch (e) {
        ctx.metrics.inc('announcements_refused');
        ctx.log.warn({ err: e }, 'unreadable host announcement ignored');
        return;
      }
      if (a.kind === 'forged') {
        ctx.metrics.inc('forged_reports', 1, { kind: 'announce' });
        ctx.log.warn({ host: a.claimed, from: a.from, kind: 'announce' }, 'refused forged announcement');
        return;
      }
      try {
        see(a.announce);
      } catch (e) {
        ctx.log.warn({ err: e, host: a.announce.host }, 'host announcement not taken');
      }
    },
  });
  return async () => sub.unsubscribe();
}
