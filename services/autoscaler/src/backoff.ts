/**
 * How long a provider that failed `failures` times in a row is left alone: the evaluation interval, doubled per
 * failure, capped (throttling answers in seconds, an unknown fleet or bad credentials need a person: minutes).
 */
export function backoffDelay(failures: number, baseMs: number, capMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(capMs, baseMs * 2 ** Math.min(failures - 1, 30));
}
