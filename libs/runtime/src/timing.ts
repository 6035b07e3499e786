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

/**
 * Runs `step` again `intervalMs` after each one ends (never two at once, unlike setInterval with a slow step), until
 * the returned stop, which waits for a step under way. A failed step is given to `onError` and the loop goes on.
 */
export function repeat(
  step: () => Promise<void>, intervalMs: number, onError: (err: unknown) => void, opts: { immediate?: boolean } = {},
): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const loop = (): void => {
    running = step()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  if (opts.immediate) loop();
  else timer = setTimeout(loop, intervalMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
