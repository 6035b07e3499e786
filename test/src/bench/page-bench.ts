/// <reference lib="dom" />
// Part (7) of `npm run bench` (`--only=page`): the status page in Debian's chromium, headless. Time to first content
// of the tasks page with `tasks` tasks in the ledger, and layout and drawing of a workflow graph of `graphNodes`
// tasks (d3-dag, lean SVG). Measured in the browser: performance.now() counts from the navigation's start.
import { jetstream } from '@nats-io/jetstream';
import type { Browser } from 'puppeteer-core';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/nats.js';
import { percentile, startStack } from './stack.js';

export interface PageBenchSizes {
  /** Tasks in the ledger when the tasks page is timed (the graph's included). */
  tasks: number;
  graphNodes: number;
  samples: number;
}

export interface PageBenchRun {
  sizes: PageBenchSizes;
  /** GET /v1/tasks/<name>/graph of the whole workflow, from node, per sample (the first one cold). */
  graphReadMs: number[];
  /** Navigation start → the first row of the tasks table in the DOM, per sample (the first one cold). */
  tasksFirstContentMs: number[];
  /** The graph page: d3-dag's layout and the SVG drawn, to the frame after it was painted. */
  graphDrawMs: number[];
  /** The graph page: of `graphDrawMs`, the layout alone (the worker's answer received). */
  graphLayoutMs: number[];
  /** The graph page: navigation start → the graph drawn (the API's read of the workflow included). */
  graphPageMs: number[];
  /** One zoom step of the drawn graph (a wheel event) → the frame after the one it changed, p50 over 20 steps. */
  graphZoomFrameMs: number;
  edges: number;
  /** Bytes the page loads: the shell, the script, the style sheet; the graph's layout worker and d3-dag. */
  clientBytes: Record<string, number>;
}

const enc = new TextEncoder();
const WIDTH = 50;

/**
 * A layered workflow of `n` tasks, `WIDTH` a layer: each task after the first layer depends on the task above it
 * and, two in three, on that one's right neighbour too: one workflow, whose edges cross between lanes.
 */
export function layeredWorkflow(n: number, name: (i: number) => string): Array<{ name: string; executor: string; command: string[]; dependencies: string[] }> {
  return Array.from({ length: n }, (_, i) => {
    const deps = i < WIDTH ? [] : [name(i - WIDTH), ...((i % WIDTH) + 1 < WIDTH && i % 3 !== 0 ? [name(i - WIDTH + 1)] : [])];
    return { name: name(i), executor: 'process', command: ['true'], dependencies: deps };
  });
}

export async function runPageBench(s: PageBenchSizes): Promise<PageBenchRun> {
  const port = await freePort();
  // No agent and no resolver: the tasks stay ready and waiting, the ledger holds exactly what was submitted.
  const stack = await startStack({ agents: [], services: ['intake', 'api'], env: { API_PORT: String(port), API_AUTH: 'off' } });
  const base = `http://127.0.0.1:${port}`;
  let browser: Browser | null = null;
  try {
    const js = jetstream(stack.nc);
    const gname = (i: number) => `g-${String(i).padStart(5, '0')}`;
    const workflow = layeredWorkflow(s.graphNodes, gname);
    const rest = Array.from({ length: s.tasks - s.graphNodes }, (_, i) => ({ name: `t-${String(i).padStart(6, '0')}`, executor: 'process', command: ['true'] }));
    const all = [...workflow, ...rest];
    for (let i = 0; i < all.length; i += 1000) await js.publish('tasks.submit', enc.encode(JSON.stringify(all.slice(i, i + 1000))));
    const count = async (): Promise<number> => {
      const res = await fetch(`${base}/v1/overview`);
      const o = (await res.json()) as { counts: Record<string, number> };
      return Object.values(o.counts ?? {}).reduce((a, b) => a + b, 0);
    };
    const deadline = Date.now() + 600_000;
    for (let n = await count(); n < s.tasks; n = await count()) {
      if (Date.now() > deadline) throw new Error(`page bench: ${n} of ${s.tasks} tasks in the ledger`);
      await new Promise((r) => setTimeout(r, 500));
    }

    const graphReadMs: number[] = [];
    for (let k = 0; k < s.samples; k++) {
      const start = performance.now();
      const res = await fetch(`${base}/v1/tasks/${gname(0)}/graph`);
      if (!res.ok) throw new Error(`page bench: GET graph: ${res.status}`);
      await res.arrayBuffer();
      graphReadMs.push(performance.now() - start);
    }

    browser = await launchChromium();
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    // What the page loads, as served: the shell, its script and style sheet, and the layout worker with d3-dag.
    const clientBytes: Record<string, number> = {};
    for (const p of ['/ui/tasks', '/ui/assets/app.js', '/ui/assets/app.css', '/ui/assets/layout.js', '/ui/assets/d3-dag.min.js']) {
      clientBytes[p] = (await (await fetch(`${base}${p}`)).arrayBuffer()).byteLength;
    }
    const tasksFirstContentMs: number[] = [];
    for (let k = 0; k < s.samples; k++) {
      await page.goto('about:blank');
      await page.goto(`${base}/ui/tasks`, { waitUntil: 'domcontentloaded' });
      const at = await page.waitForFunction(() => (document.querySelector('#tasks tbody tr') ? performance.now() : 0), { polling: 'raf', timeout: 30_000 });
      tasksFirstContentMs.push(Number(await at.jsonValue()));
    }
    const graphDrawMs: number[] = [];
    const graphLayoutMs: number[] = [];
    const graphPageMs: number[] = [];
    let edges = 0;
    for (let k = 0; k < s.samples; k++) {
      await page.goto('about:blank');
      await page.goto(`${base}/ui/graph/${gname(0)}`, { waitUntil: 'domcontentloaded' });
      const at = await page.waitForFunction(() => {
        const svg = document.querySelector<SVGSVGElement>('#graph svg');
        return svg?.dataset['drawnMs'] ? [Number(svg.dataset['drawnMs']), performance.now(), Number(svg.dataset['layoutMs']), document.querySelectorAll('#graph .node').length, document.querySelectorAll('#graph .edge').length] : null;
      }, { polling: 'raf', timeout: 120_000 }).catch((err: unknown) => {
        throw new Error(`page bench: the graph was not drawn (${errors.join('; ') || 'no error in the page'})`, { cause: err });
      });
      const [draw, total, layoutMs, nodes, e] = (await at.jsonValue()) as [number, number, number, number, number];
      if (nodes !== s.graphNodes) throw new Error(`page bench: the graph drew ${nodes} nodes, not ${s.graphNodes}`);
      graphDrawMs.push(draw);
      graphLayoutMs.push(layoutMs);
      graphPageMs.push(total);
      edges = e;
    }
    // Responsiveness: a zoom moves one transform; the time from the wheel event to the next frame.
    const zoom = await page.evaluate(async () => {
      const svg = document.querySelector('#graph svg')!;
      const r = svg.getBoundingClientRect();
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        svg.dispatchEvent(new WheelEvent('wheel', { deltaY: i % 2 === 0 ? -120 : 100, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
        await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
        times.push(performance.now() - t0);
      }
      return times;
    });
    return { sizes: s, graphReadMs, tasksFirstContentMs, graphDrawMs, graphLayoutMs, graphPageMs, graphZoomFrameMs: percentile(zoom, 50), edges, clientBytes };
  } finally {
    await browser?.close();
    await stack.stop();
  }
}
