/**
 * When most hosts fall silent at once, the network is the likelier cause, not the hosts: Kubernetes' node lifecycle
 * controller stops evicting from a zone once 55% of its nodes are not ready (`unhealthyZoneThreshold`). Tangerine
 * holds in the same case: no host is marked down (and no run requeued) while at least `share` of the hosts that are
 * up or draining (and at least two, of `minHosts` or more) have been silent for half of HOST_TIMEOUT, for at most `holdMs`; after that the hosts are taken for
 * lost after all, so a zone that truly died is requeued within HOST_SILENCE_HOLD.
 */
export interface SilenceRule {
  /** The share of hosts silent at once that points to the network (0.55). */
  share: number;
  /** Fleets smaller than this never hold: one host of two gone is a lost host, not a partition. */
  minHosts: number;
  /** How long a hold lasts at most. */
  holdMs: number;
}

export interface SilenceInput {
  /** Hosts silent for half of HOST_TIMEOUT or more. */
  silent: number;
  total: number;
  now: number;
  /** When the current hold began, or null when none holds. */
  holdingSince: number | null;
}

export type SilenceDecision =
  | { action: 'proceed'; holdingSince: null; event: 'silence_cleared' | null }
  | { action: 'hold'; holdingSince: number; event: 'silence_suspected' | null };

/** What the sweep does now, and the fleet event to publish when a hold begins or ends. */
export function decideSilence(rule: SilenceRule, input: SilenceInput): SilenceDecision {
  const { silent, total, now, holdingSince } = input;
  const suspicious = total >= rule.minHosts && silent >= 2 && silent / total >= rule.share;
  if (suspicious && (holdingSince === null || now - holdingSince < rule.holdMs)) {
    return { action: 'hold', holdingSince: holdingSince ?? now, event: holdingSince === null ? 'silence_suspected' : null };
  }
  return { action: 'proceed', holdingSince: null, event: holdingSince === null ? null : 'silence_cleared' };
}
