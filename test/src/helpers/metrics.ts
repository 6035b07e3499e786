import assert from 'node:assert/strict';
import type { ServiceProcess } from './processes.js';

/** The port a process's /healthz and /metrics listen on (HEALTH_PORT=0: one the system chose), once it is serving. */
export async function healthPort(p: ServiceProcess): Promise<number> {
  const line = await p.waitForLine((l) => l['msg'] === 'health endpoint listening', 20000);
  return Number(line['port']);
}

export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of the series `name{…labels…}` (its labels in any order), or null when it is not there. */
export function value(text: string, name: string, labels: Record<string, string>): number | null {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return null;
}
