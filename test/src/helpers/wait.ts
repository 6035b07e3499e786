/** Polls `find` every 50 ms until it gives a value (not undefined), and returns it; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, find: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `ok` until it holds; fails after `timeoutMs`. */
export async function waitUntil(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  await waitFor(what, async () => ((await ok()) ? true : undefined), timeoutMs);
}
