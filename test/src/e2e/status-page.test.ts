/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions handed to page.evaluate run in the browser: the DOM types are for them.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorReply, Overview, Schedule, TaskGraph, compile } from '@tangerine/contracts';
import { openLedger, recordScalingSeen } from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium } from '../helpers/browser.js';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { HttpApi } from '../helpers/http.js';
import { ROOT } from '../helpers/processes.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const HOST = 'page-a';
/** Where the screenshots go: a test artifact, git-ignored (docs/screenshots/ holds the few the README shows). */
const SHOTS = path.join(ROOT, 'test', 'artifacts', 'screenshots');
const SIZES = [{ label: 'desktop', width: 1280, height: 800 }, { label: 'phone', width: 390, height: 844 }] as const;

const CASE = { a: 'dia-a', b: 'dia-b', c: 'dia-c', d: 'dia-d' };
const proc = (name: string, seconds: number, deps: string[] = []): Record<string, unknown> =>
  ({ name, executor: 'process', command: ['sh', '-c', `echo "${name} ran"; sleep ${seconds}`], dependencies: deps });

/**
 * The status page in a real browser (Debian's chromium, headless) against a whole Tangerine: a diamond submitted over
 * NATS goes waiting, ready, running, success on the tasks page without a reload and on its graph, a failed task's
 * page shows its exit code and output, and cancel from the page (with the token it asks for) stops a container.
 * Every view is photographed at 1280×800 and 390×844; the page logs no console error throughout.
 */
describe('the status page, in chromium', () => {
  const cluster = new Cluster('status-page', { API_READ_OPEN: 'true' });
  let browser: Browser;
  let base: string;
  const consoleErrors: string[] = [];

  async function open(url: string, size: (typeof SIZES)[number] = SIZES[0]): Promise<Page> {
    const page = await browser.newPage();
    await page.setViewport({ width: size.width, height: size.height });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
    page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${String(err)}`));
    await page.goto(`${base}${url}`, { waitUntil: 'domcontentloaded' });
    return page;
  }

  async function shoot(view: string, url: string, ready: string): Promise<void> {
    for (const size of SIZES) {
      const page = await open(url, size);
      await page.waitForSelector(ready, { timeout: 15_000 });
      await page.screenshot({ path: path.join(SHOTS, `${view}-${size.label}.png`) });
      await page.close();
    }
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    await cluster.start({ agents: [{ host: HOST, executors: 'docker,process', slots: 4, labels: 'zone=a' }] });
    base = await cluster.httpUrl();
  });

  after(async () => {
    await browser?.close();
    await cluster.stop();
  });

  it('shows a diamond going waiting, ready, running, success on the tasks page, live, and its graph coloured by state', async () => {
    const page = await open('/ui/tasks?prefix=dia-');
    await page.waitForSelector('#tasks tbody');
    await page.waitForSelector('#live.on');
    // Every state each row shows, as the rows change: a row is replaced whole on each event, so the added rows hold
    // every state it went through. The mark proves the page was not loaded again.
    await page.evaluate(() => {
      const w = window as unknown as { seen: Record<string, string[]>; mark: number };
      w.mark = 42;
      w.seen = {};
      const note = (tr: Element): void => {
        const name = tr.getAttribute('data-name');
        const state = tr.getAttribute('data-state');
        if (!name || !state) return;
        const list = (w.seen[name] ??= []);
        if (list.at(-1) !== state) list.push(state);
      };
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes) if (n instanceof Element && n.matches('tr')) note(n);
      }).observe(document.querySelector('#tasks tbody')!, { childList: true, subtree: true });
    });
    cluster.client.submit([proc(CASE.a, 3), proc(CASE.b, 1, [CASE.a]), proc(CASE.c, 1, [CASE.a]), proc(CASE.d, 1, [CASE.b, CASE.c])]);

    // The graph, opened while the diamond runs: its first drawing has more than one state, each in its colour.
    await cluster.client.waitForState(CASE.a, 'running', 30_000);
    const graph = await open(`/ui/graph/${CASE.d}`);
    await graph.waitForSelector('#graph .node');
    const drawn = async (): Promise<{ nodes: Array<{ name: string; state: string; fill: string; want: string }>; edges: string[] }> => graph.evaluate(() => {
      const css = getComputedStyle(document.documentElement);
      const rgb = (c: string): string => { const el = document.createElement('i'); el.style.color = c; document.body.append(el); const v = getComputedStyle(el).color; el.remove(); return v; };
      return {
        nodes: [...document.querySelectorAll<SVGGElement>('#graph .node')].map((g) => ({
          name: g.dataset['name']!, state: g.dataset['state']!, fill: getComputedStyle(g.querySelector('rect')!).fill,
          want: rgb(css.getPropertyValue(`--${g.dataset['state']!}`).trim()),
        })),
        edges: [...document.querySelectorAll<SVGPathElement>('#graph .edge')].map((e) => `${e.dataset['from']}>${e.dataset['to']}`).sort(),
      };
    });
    const first = await drawn();
    assert.deepEqual(first.nodes.map((n) => n.name).sort(), Object.values(CASE).sort());
    assert.deepEqual(first.edges, [`${CASE.a}>${CASE.b}`, `${CASE.a}>${CASE.c}`, `${CASE.b}>${CASE.d}`, `${CASE.c}>${CASE.d}`]);
    for (const n of first.nodes) assert.equal(n.fill, n.want, `${n.name} (${n.state}) is drawn in its state's colour`);
    assert.equal(first.nodes.find((n) => n.name === CASE.d)?.state, 'waiting', 'the sink waits while its upstream runs');
    assert.ok(new Set(first.nodes.map((n) => n.fill)).size >= 2, `more than one colour: ${JSON.stringify(first.nodes)}`);

    await cluster.client.waitForState(CASE.d, 'success', 60_000);
    const seen = await waitFor('every row of the diamond at success', async () => {
      const s = await page.evaluate(() => (window as unknown as { seen: Record<string, string[]> }).seen);
      return Object.values(CASE).every((n) => s[n]?.at(-1) === 'success') ? s : undefined;
    }, 15_000);
    const inOrder = (list: string[], want: string[]): boolean => want.every((s, i) => list.indexOf(s) >= 0 && (i === 0 || list.indexOf(s) > list.indexOf(want[i - 1]!)));
    assert.ok(inOrder(seen[CASE.d]!, ['waiting', 'ready', 'running', 'success']), `dia-d on the page: ${JSON.stringify(seen[CASE.d])}`);
    assert.ok(inOrder(seen[CASE.a]!, ['running', 'success']), `dia-a on the page: ${JSON.stringify(seen[CASE.a])}`);
    assert.equal(await page.evaluate(() => (window as unknown as { mark: number }).mark), 42, 'the tasks page was not reloaded');
    assert.equal(await page.$$eval('#tasks tbody tr', (rows) => rows.length), 4);

    // The graph followed live: every node now success, in success's colour.
    await waitUntil('every node of the graph at success', async () => (await drawn()).nodes.every((n) => n.state === 'success'), 15_000);
    for (const n of (await drawn()).nodes) assert.equal(n.fill, n.want);
    // A click on a node opens its task.
    const box = await (await graph.$(`#graph .node[data-name="${CASE.b}"] rect`))!.boundingBox();
    await graph.mouse.click(box!.x + box!.width / 2, box!.y + box!.height / 2);
    await graph.waitForFunction((n) => location.pathname === `/ui/tasks/${n}`, { timeout: 10_000 }, CASE.b);
    await graph.waitForSelector('#facts');
    await page.close();
    await graph.close();
  });

  it('shows a failed task\'s exit code and output', async () => {
    cluster.client.submit({ name: 'page-fails', executor: 'process', restartable: false, command: ['sh', '-c', 'echo "boom: the disk is full"; exit 3'] });
    await cluster.client.waitForState('page-fails', 'failed', 30_000);
    const page = await open('/ui/tasks/page-fails');
    await page.waitForSelector('#runs [data-field=exit_code]');
    assert.equal(await page.$eval('#facts [data-field=state]', (e) => e.textContent), 'failed');
    assert.equal(await page.$eval('#runs [data-field=exit_code]', (e) => e.textContent), '3');
    assert.match(await page.$eval('#output-text', (e) => e.textContent ?? ''), /boom: the disk is full/);
    await page.click('#full-output');
    await page.waitForSelector('#output-full');
    assert.match(await page.$eval('#output-full', (e) => e.textContent ?? ''), /boom: the disk is full/);
    await page.close();
  });

  it('reads a failed run\'s output as text with the token where reading needs one', async () => {
    // A second api of the same cluster whose reading is closed: a plain link to the raw route would answer 401.
    cluster.startService('api', 'api-closed', { API_READ_OPEN: 'false' });
    const closed = await cluster.httpUrl('api-closed');
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) consoleErrors.push(`${page.url()}: ${m.text()}`); });
    await page.goto(`${closed}/ui/tasks/page-fails`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#token-dialog[open]');
    await page.type('#token-input', cluster.apiTokens.read);
    await page.click('#token-save');
    await page.waitForSelector('#output-raw');
    const opened = new Promise<Page | null>((resolve) => browser.once('targetcreated', (t: { page(): Promise<Page | null> }) => void t.page().then(resolve)));
    await page.click('#output-raw');
    const tab = await opened;
    assert.ok(tab, 'the text opens in a new tab');
    await tab.waitForFunction(() => /boom: the disk is full/.test(document.body?.innerText ?? ''), { timeout: 15_000 });
    assert.match(tab.url(), /^blob:/, 'read with the token, shown from a blob');
    await tab.close();
    await page.close();
  });

  it('cancels a running container from the page, asking for the token first', async () => {
    cluster.client.submit({ name: 'page-cancel', image: TEST_IMAGE, command: ['sh', '-c', 'echo started; sleep 300'] });
    await cluster.client.waitForState('page-cancel', 'running', 60_000);
    await waitUntil('the container runs', async () => (await cluster.containers()).some((c) => c.Labels['tangerine.task'] === 'page-cancel' && c.State === 'running'), 20_000);
    const page = await open('/ui/tasks/page-cancel');
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    // No token kept yet: the page asks for one before acting.
    await page.waitForSelector('#token-dialog[open]');
    await page.type('#token-input', cluster.apiTokens.write);
    await page.click('#token-save');
    await cluster.client.waitForState('page-cancel', 'cancelled', 30_000);
    assert.deepEqual((await cluster.containersLeft('page-cancel', 20_000)).map((c) => c.Id), [], 'the container is gone');
    // The page follows: the task's state changes in place.
    await page.waitForFunction(() => document.querySelector('#facts [data-field=state]')?.textContent === 'cancelled', { timeout: 15_000 });
    assert.ok(await page.evaluate(() => sessionStorage.getItem('tangerine.token') !== null), 'the token is kept for the tab');
    await page.close();
  });

  it('shows every view, photographed at 1280×800 and 390×844', async () => {
    cluster.client.submit({ name: 'page-cron', executor: 'process', cron: '0 3 * * *', command: ['true'] });
    // A workflow in several states at once, for the graph's picture: a failure blocks its downstream, a run goes on.
    cluster.client.submit([
      { name: 'etl-extract', executor: 'process', command: ['true'] },
      { name: 'etl-clean', executor: 'process', restartable: false, command: ['sh', '-c', 'exit 1'], dependencies: ['etl-extract'] },
      { name: 'etl-report', executor: 'process', command: ['true'], dependencies: ['etl-clean'] },
      { name: 'etl-load', executor: 'process', command: ['sleep', '120'], dependencies: ['etl-extract'] },
      { name: 'etl-index', executor: 'process', command: ['true'], dependencies: ['etl-load'] },
      { name: 'etl-publish', executor: 'process', command: ['true'], dependencies: ['etl-index', 'etl-report'] },
    ]);
    await cluster.client.waitFor('page-cron', (t) => t.next_run_at !== null, 30_000);
    await cluster.client.waitForState('etl-report', 'blocked', 30_000);
    await cluster.client.waitForState('etl-load', 'running', 30_000);
    await shoot('overview', '/ui/', '#counts');
    await shoot('tasks', '/ui/tasks', '#tasks tbody tr');
    await shoot('task', '/ui/tasks/page-fails', '#output-text');
    await shoot('graph', '/ui/graph/etl-extract', '#graph .node');
    await shoot('hosts', '/ui/hosts', '#hosts');
    await shoot('cron', '/ui/cron', '#timeline');
    const page = await open('/ui/');
    await page.waitForSelector('#counts');
    assert.equal(await page.$eval('#scaling', () => 'shown').catch(() => 'none'), 'none', 'no autoscaling panel without an autoscaler');
    assert.equal(await page.$eval('[data-count=success] b', (e) => e.textContent), '5', 'the diamond and etl-extract succeeded');
    assert.equal(await page.$eval('[data-count=running] b', (e) => e.textContent), '1');
    assert.equal(await page.$eval('[data-hosts=up]', (e) => e.textContent), '1');
    await page.goto(`${base}/ui/cron`);
    await page.waitForSelector('#upcoming tr[data-name="page-cron"]');
    await page.goto(`${base}/ui/hosts`);
    await page.waitForSelector(`#hosts tr[data-host="${HOST}"]`);
    assert.match(await page.$eval(`#hosts tr[data-host="${HOST}"]`, (e) => e.textContent ?? ''), /zone=a/);
    await page.close();
    for (const view of ['overview', 'tasks', 'task', 'graph', 'hosts', 'cron']) {
      for (const size of SIZES) assert.ok(existsSync(path.join(SHOTS, `${view}-${size.label}.png`)), `${view} at ${size.width}`);
    }
  });

  it('shows the autoscaler\'s desired and actual counts on the overview', async () => {
    // What an autoscaler's evaluation records (services/autoscaler evaluate.ts, recordScalingSeen).
    const ledger = openLedger({ databaseUrl: cluster.databaseUrl, log: createLogger('test', { level: 'silent', pretty: false }) });
    try {
      await recordScalingSeen(ledger, 'spot-fleet', { target: 4, actual: 3, starting: 1, draining: 0, at: new Date() });
    } finally {
      await ledger.close();
    }
    const page = await open('/ui/');
    await page.waitForSelector('#scaling tr[data-provider="spot-fleet"]');
    assert.equal(await page.$eval('#scaling [data-provider="spot-fleet"] [data-field=desired]', (e) => e.textContent), '4');
    assert.equal(await page.$eval('#scaling [data-provider="spot-fleet"] [data-field=actual]', (e) => e.textContent), '3');
    await page.close();
  });

  it('answers the routes the page reads by their schemas, and their bad requests by the error body', async () => {
    const api = new HttpApi(base);
    const check = { overview: compile(Overview), graph: compile(TaskGraph), schedule: compile(Schedule), error: compile(ErrorReply) };
    const o = await api.get('/v1/overview');
    assert.equal(o.status, 200, o.text);
    assert.ok(check.overview.check(o.json), o.text);
    const overview = o.json as Overview;
    assert.equal(overview.counts['success'], 5);
    assert.equal(overview.minutes.length, 60);
    assert.ok(overview.minutes.reduce((n, m) => n + m.succeeded, 0) >= 5, 'the diamond\'s runs and etl-extract\'s in the last hour');
    assert.ok(overview.minutes.reduce((n, m) => n + m.failed, 0) >= 1, 'the failed run in the last hour');

    const g = await api.get(`/v1/tasks/${CASE.b}/graph`);
    assert.ok(check.graph.check(g.json), g.text);
    const graph = g.json as TaskGraph;
    assert.deepEqual(graph.nodes.map((n) => `${n.name}:${n.state}`).sort(), Object.values(CASE).map((n) => `${n}:success`).sort(), 'the whole workflow from a middle task');
    assert.equal(graph.edges.length, 4);
    assert.equal(graph.truncated, false);
    const alone = (await api.get('/v1/tasks/page-fails/graph')).json as TaskGraph;
    assert.deepEqual(alone, { name: 'page-fails', nodes: [{ name: 'page-fails', state: 'failed' }], edges: [], truncated: false });

    const sch = await api.get('/v1/schedule?hours=25');
    assert.ok(check.schedule.check(sch.json), sch.text);
    assert.deepEqual((sch.json as Schedule).tasks.map((t) => [t.name, t.cron]), [['page-cron', '0 3 * * *']]);

    for (const [path, status, code, field] of [
      ['/v1/tasks/no-such-task/graph', 404, 'not_found', 'name'], ['/v1/schedule?hours=0', 400, 'invalid_request', 'hours'],
      ['/v1/schedule?days=1', 400, 'invalid_request', undefined], ['/ui/assets/index.html', 404, 'not_found', undefined],
    ] as const) {
      const r = await api.get(path);
      assert.equal(r.status, status, `${path}: ${r.text}`);
      assert.ok(check.error.check(r.json), r.text);
      assert.equal((r.json as ErrorReply).error.code, code, r.text);
      if (field !== undefined) assert.equal((r.json as ErrorReply).error.field, field, r.text);
    }
    const shell = await api.get('/ui/tasks/anything');
    assert.equal(shell.status, 200);
    assert.match(shell.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(shell.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal((await api.get('/ui/assets/app.js', { headers: { 'if-none-match': (await api.get('/ui/assets/app.js')).headers.get('etag')! } })).status, 304);
  });

  it('logged no console error in any view', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
