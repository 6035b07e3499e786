import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's chromium (scripts/prepare.sh installs it), or CHROME_PATH: never a download, and never skipped. */
export function chromiumPath(): string {
  const given = process.env['CHROME_PATH'];
  const found = [given, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && p !== '' && existsSync(p));
  if (found === undefined) {
    throw new Error(`no chromium: ${given ? `CHROME_PATH=${given} does not exist, and ` : ''}/usr/bin/chromium is not installed (run bash scripts/prepare.sh, or set CHROME_PATH)`);
  }
  return found;
}

/** Chromium headless, as root in a container: its sandbox needs namespaces this machine does not give. */
export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(), headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-extensions'],
  });
}
