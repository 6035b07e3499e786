export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/** Exponential backoff with jitter, capped: attempt 0 → ~base, 1 → ~2×base, … */
export function backoff(attempt: number, baseMs = 100, capMs = 5000): number {
  const exp = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}
