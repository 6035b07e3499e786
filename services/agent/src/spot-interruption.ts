import { repeat, type Logger } from '@tangerine/runtime';
import type { Ec2Metadata, SpotNotice } from './ec2-metadata.js';

export interface SpotWatchOptions {
  metadata: Ec2Metadata;
  intervalMs: number;
  host: string;
  log: Logger;
  /** Called once, with the first notice seen. */
  onNotice: (notice: SpotNotice) => Promise<void>;
}

/**
 * Polls the instance's spot interruption notice every `intervalMs` (AWS advises every 5 s: the notice comes 2 minutes
 * before EC2 takes the instance). The first notice is handed to `onNotice`, once; polling stops there. A metadata
 * service that does not answer is logged when it starts failing and when it answers again, not at every poll.
 * Returns the stop, which waits for a poll (and a notice's handling) under way.
 */
export function watchSpotInterruption(opts: SpotWatchOptions): () => Promise<void> {
  const { metadata, host, log } = opts;
  let noticed = false;
  let failing = false;
  return repeat(async () => {
    if (noticed) return;
    let notice: SpotNotice | null;
    try {
      notice = await metadata.spotNotice();
    } catch (err) {
      if (!failing) log.warn({ host, err }, 'spot interruption notice not readable; trying again');
      failing = true;
      return;
    }
    if (failing) log.info({ host }, 'spot interruption notice readable again');
    failing = false;
    if (notice === null) return;
    noticed = true;
    log.warn({ host, action: notice.action, time: notice.time }, 'spot interruption notice: draining this host');
    await opts.onNotice(notice);
  }, opts.intervalMs, (err) => log.error({ host, err }, 'spot interruption handling failed'), { immediate: true });
}
