import { ServerError, type TangerineClient, type WatchEvent } from '@tangerine/client';
import { TASK_STATES, ValidationError, isTaskState, type TaskState, type TaskView } from '@tangerine/contracts';
import { stringify } from 'yaml';
import { applyAction } from './compare.js';
import { parseDocuments, type Document } from './documents.js';
import { ExitCodes, exitWhenEnded, firstFailure } from './exit-codes.js';
import { HOSTS_HEAD, PS_HEAD, eventLine, hostRow, psRow, splitList, treeLines, type Node } from './format.js';
import { LiveLine, color, err, errorLine, out, print, readInput, stateColor, table, type Format } from './io.js';
import { merged, putTemplate } from './templates.js';

/** How long a followed task may take when no --timeout is given: a day, in effect no limit. */
const FOLLOW_FOREVER_MS = 24 * 3600 * 1000;
/** Names read for `get`'s dependency tree, at most: a fan-in of thousands is shown as far as this. */
export const TREE_NODES = 200;
/** Submissions (and cancels) in flight at once: each holds two subscriptions while it waits for its verdict. */
const SUBMIT_AT_ONCE = 16;

export type Connect = () => Promise<TangerineClient>;

function usage(field: string, rule: string): ValidationError {
  return new ValidationError('invalid_request', `${field}: ${rule}`, { field });
}

export function parseFormat(value: string | undefined, allowed: readonly Format[]): Format {
  const f = value ?? 'table';
  if (!(allowed as readonly string[]).includes(f)) throw usage('-o', `must be one of ${allowed.join(', ')} (got ${JSON.stringify(f)})`);
  return f as Format;
}

function docs(file: string): Document[] {
  const source = file === '-' ? 'stdin' : file;
  return parseDocuments(readInput(file), source);
}

function nameOf(spec: Record<string, unknown>): string | null {
  return typeof spec['name'] === 'string' ? spec['name'] : null;
}

async function getOrNull(client: TangerineClient, name: string): Promise<TaskView | null> {
  try {
    return await client.get(name);
  } catch (e) {
    if (e instanceof ServerError && e.code === 'not_found') return null;
    throw e;
  }
}

// --- submit ---

export interface SubmitOpts { file: string; wait?: boolean; output?: string; timeout?: number }

interface Submitted { name: string | null; where: string; seq: number; rejected?: { code: string; field: string | null; reason: string }; attempt: number }

export async function submit(connect: Connect, opts: SubmitOpts): Promise<number> {
  const format = parseFormat(opts.output, ['table', 'json']);
  const documents = docs(opts.file);
  if (documents.length === 0) throw usage('-f', `${opts.file === '-' ? 'stdin' : opts.file} holds no task spec`);
  const client = await connect();
  try {
    for (const d of documents) {
      if (d.kind !== 'template') continue;
      const t = await putTemplate(client, d.template, d.where);
      // A template refused is a rejection: the tasks of the file that name it would be refused too.
      if (t.result === 'rejected') {
        errorLine(`template ${t.name} rejected: ${t.reason ?? ''}`);
        return ExitCodes.rejected;
      }
    }
    const tasks = documents.filter((d): d is Extract<Document, { kind: 'task' }> => d.kind === 'task');
    const done: Submitted[] = [];
    // 16 at a time, each waiting for its own verdict; shown in the order of the file.
    for (let i = 0; i < tasks.length; i += SUBMIT_AT_ONCE) {
      const chunk = await Promise.all(tasks.slice(i, i + SUBMIT_AT_ONCE).map(async (d): Promise<Submitted> => {
        const r = await client.submit(d.spec, { wait: true });
        const s: Submitted = { name: nameOf(d.spec), where: d.where, seq: r.seq, attempt: r.outcome?.event?.attempt ?? 0 };
        if (r.outcome?.rejected) {
          const { code, field, reason } = r.outcome.rejected;
          s.rejected = { code, field, reason };
        }
        return s;
      }));
      for (const s of chunk) {
        if (s.rejected) errorLine(`${s.name ?? s.where} rejected: ${s.rejected.reason} (${s.rejected.code})`);
        else if (format === 'table' && !opts.wait) out(`${s.name ?? s.where} submitted`);
        done.push(s);
      }
    }
    const codes = done.map((s) => (s.rejected ? ExitCodes.rejected : ExitCodes.ok));
    if (!opts.wait) {
      if (format === 'json') print('json', done.map((s) => ({ name: s.name, seq: s.seq, ...(s.rejected ? { rejected: s.rejected } : {}) })));
      return firstFailure(codes);
    }
    const followed = done.filter((s) => !s.rejected && s.name !== null);
    const views = await follow(client, followed.map((s) => ({ name: s.name!, since: s.attempt })), opts.timeout);
    const result = done.map((s) => {
      if (s.rejected || s.name === null) return { name: s.name, exit_code: ExitCodes.rejected, rejected: s.rejected ?? null };
      const v = views.get(s.name)!;
      return { name: s.name, state: v.view.state, exit_code: v.code, reason: v.view.reason };
    });
    if (format === 'json') print('json', result.length === 1 ? result[0] : result);
    return firstFailure(result.map((r) => r.exit_code));
  } finally {
    await client.close();
  }
}

/**
 * Follows tasks until each run is over (exitWhenEnded), with one live line saying where they are. Returns each
 * task's last view and exit code.
 */
async function follow(client: TangerineClient, tasks: readonly { name: string; since: number }[], timeoutS?: number): Promise<Map<string, { view: TaskView; code: number }>> {
  const line = new LiveLine();
  const where = new Map<string, string>();
  const show = (): void => {
    const parts = [...where].map(([n, s]) => `${n}: ${s}`);
    line.update(parts.length <= 3 ? parts.join(', ') : `${parts.length} tasks: ${parts.slice(0, 3).join(', ')}, …`);
  };
  const results = new Map<string, { view: TaskView; code: number }>();
  const timeoutMs = timeoutS !== undefined ? timeoutS * 1000 : FOLLOW_FOREVER_MS;
  // Each task is read again on its events, and at least this often: once a second for a few, and no more than
  // about 100 reads a second in all for a thousand followed at once.
  const recheckMs = Math.max(1000, tasks.length * 10);
  try {
    await Promise.all(tasks.map(async ({ name, since }) => {
      const view = await client.waitFor(name, (v) => {
        where.set(name, describeState(v));
        show();
        return exitWhenEnded(v, since) !== null;
      }, { timeoutMs, recheckMs });
      results.set(name, { view, code: exitWhenEnded(view, since)! });
    }));
  } catch (e) {
    // The spinner's timer would keep the process alive after the error is reported.
    line.end(false, 'stopped following');
    throw e;
  }
  const codes = tasks.map((t) => results.get(t.name)!.code);
  const summary = tasks.map((t) => `${t.name}: ${describeEnd(results.get(t.name)!.view, results.get(t.name)!.code)}`).join(', ');
  line.end(firstFailure(codes) === ExitCodes.ok, summary);
  return results;
}

function describeState(v: TaskView): string {
  const bits: string[] = [v.state];
  if (v.host !== null && (v.state === 'placed' || v.state === 'running')) bits.push(`on ${v.host}`);
  if (v.attempt > 1) bits.push(`attempt ${v.attempt}`);
  if (v.state === 'waiting' && v.pending_dependencies.length > 0) bits.push(`for ${v.pending_dependencies.slice(0, 3).join(', ')}`);
  return bits.join(' ');
}

function describeEnd(v: TaskView, code: number): string {
  const reason = v.reason !== null ? ` (${v.reason})` : '';
  return v.state === 'success' || v.state === 'scheduled' ? `${v.state}, exit ${code}` : `${v.state}${reason}, exit ${code}`;
}

// --- apply ---

export interface ApplyOpts { file: string; output?: string }

export async function apply(connect: Connect, opts: ApplyOpts): Promise<number> {
  const format = parseFormat(opts.output, ['table', 'json']);
  const documents = docs(opts.file);
  const client = await connect();
  const results: { kind: string; name: string | null; result: string; version?: number; reason?: string }[] = [];
  const report = (r: (typeof results)[number]): void => {
    results.push(r);
    if (format !== 'table') return;
    const what = `${r.kind === 'template' ? 'template ' : ''}${r.name ?? '?'}${r.version !== undefined ? `:${r.version}` : ''}`;
    const result = r.result === 'unchanged' ? color.dim(r.result) : r.result === 'rejected' || r.result === 'busy' ? color.red(r.result) : color.green(r.result);
    out(`${what} ${result}${r.reason !== undefined ? `: ${r.reason}` : ''}`);
  };
  try {
    // Templates first: a task of the same file may name one.
    for (const d of documents) {
      if (d.kind !== 'template') continue;
      const t = await putTemplate(client, d.template, d.where);
      report({ kind: 'template', name: t.name, result: t.result, ...(t.version !== undefined ? { version: t.version } : {}), ...(t.reason !== undefined ? { reason: t.reason } : {}) });
    }
    for (const d of documents) {
      if (d.kind !== 'task') continue;
      const name = nameOf(d.spec);
      const existing = name !== null ? await getOrNull(client, name).catch((e: unknown) => {
        if (e instanceof ServerError && e.code === 'invalid_request') return null;
        throw e;
      }) : null;
      const action = applyAction(existing ? await merged(client, d.spec) : d.spec, existing);
      if (action === 'unchanged') {
        report({ kind: 'task', name, result: 'unchanged' });
        continue;
      }
      if (action === 'busy') {
        report({ kind: 'task', name, result: 'busy', reason: `its spec differs and it is ${existing!.state}: cancel it first (tangerine rm ${name})` });
        continue;
      }
      const r = await client.submit(d.spec, { wait: true });
      if (r.outcome?.rejected) {
        report({ kind: 'task', name: name ?? d.where, result: 'rejected', reason: r.outcome.rejected.reason });
      } else {
        report({ kind: 'task', name, result: action === 'create' ? 'created' : 'submitted' });
      }
    }
  } finally {
    await client.close();
  }
  if (format === 'json') print('json', results);
  return results.some((r) => r.result === 'rejected' || r.result === 'busy') ? ExitCodes.rejected : ExitCodes.ok;
}

// --- ps ---

export interface PsOpts { state?: string[]; prefix?: string; quiet?: boolean; output?: string; watch?: boolean; limit?: number }

export function parseStates(values: readonly string[] | undefined): TaskState[] {
  const states = splitList(values ?? []);
  for (const s of states) if (!isTaskState(s)) throw usage('--state', `must be among ${TASK_STATES.join(', ')} (got ${JSON.stringify(s)})`);
  return states as TaskState[];
}

async function listTasks(client: TangerineClient, states: readonly TaskState[], prefix: string | undefined, limit: number | undefined): Promise<TaskView[]> {
  const tasks: TaskView[] = [];
  const max = limit ?? Infinity;
  const filters = states.length === 0 ? [undefined] : states;
  for (const state of filters) {
    for await (const t of client.listAll({ ...(state ? { state } : {}), ...(prefix !== undefined ? { prefix } : {}), ...(limit !== undefined ? { limit: Math.min(limit, 1000) } : {}) })) {
      if (tasks.length >= max) break;
      tasks.push(t);
    }
  }
  // Several states are listed one after the other; shown by name, as one state is.
  if (filters.length > 1) tasks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return tasks;
}

function renderPs(tasks: readonly TaskView[], opts: PsOpts, format: Format): string {
  if (opts.quiet) return tasks.map((t) => t.name).join('\n');
  if (format === 'json') return JSON.stringify(tasks, null, 2);
  if (format === 'yaml') return stringify(tasks).trimEnd();
  if (tasks.length === 0) return '';
  const now = Date.now();
  return table(PS_HEAD, tasks.map((t) => {
    const row = psRow(t, now);
    row[1] = stateColor(row[1]!);
    return row;
  }));
}

export async function ps(connect: Connect, opts: PsOpts): Promise<number> {
  const format = parseFormat(opts.output, ['table', 'json', 'yaml']);
  const states = parseStates(opts.state);
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) throw usage('--limit', `must be a whole number of at least 1 (got ${opts.limit})`);
  const client = await connect();
  try {
    const draw = async (): Promise<void> => {
      const text = renderPs(await listTasks(client, states, opts.prefix, opts.limit), opts, format);
      if (opts.watch && process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
      if (text !== '') out(text);
      else if (opts.watch && !opts.quiet) out(color.dim('no tasks'));
      else if (!opts.quiet) err('no tasks');
    };
    await draw();
    if (!opts.watch) return ExitCodes.ok;
    // Redrawn on events, at most every 500 ms: a burst of a thousand changes is one redraw, not a thousand.
    const live = client.live({ kinds: ['task'] });
    let pending: NodeJS.Timeout | null = null;
    let drawing: Promise<void> = Promise.resolve();
    for await (const _ of live) {
      if (pending !== null) continue;
      pending = setTimeout(() => {
        pending = null;
        drawing = drawing.then(draw).catch((e: unknown) => errorLine(String(e)));
      }, 500);
    }
    return ExitCodes.ok;
  } finally {
    await client.close();
  }
}

// --- get ---

export async function get(connect: Connect, name: string, opts: { output?: string }): Promise<number> {
  const format = parseFormat(opts.output, ['table', 'json', 'yaml']);
  const client = await connect();
  try {
    const view = await client.get(name);
    if (format !== 'table') {
      print(format, view);
      return ExitCodes.ok;
    }
    const nodes = await upstream(client, view);
    const field = (k: string, v: string | number | null): void => out(`${color.bold(`${k}:`.padEnd(13))}${v ?? '-'}`);
    field('name', view.name);
    field('state', stateColor(view.state));
    field('reason', view.reason);
    field('host', view.host);
    field('attempt', view.attempt);
    field('failures', view.failures);
    field('next_run_at', view.next_run_at);
    if (view.retry_at !== null) field('retry_at', view.retry_at);
    field('created_at', view.created_at);
    field('updated_at', view.updated_at);
    out(color.bold('spec:'));
    out(stringify(view.spec).trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
    out(color.bold('dependencies:'));
    if (view.spec.dependencies.length === 0) out('  (none)');
    else for (const l of treeLines(view.name, nodes)) out(`  ${l}`);
    out(color.bold(`runs (${view.runs?.length ?? 0} of ${view.runs_total ?? 0}):`));
    if ((view.runs ?? []).length === 0) out('  (none)');
    for (const r of view.runs ?? []) {
      out(`  #${r.attempt} ${r.host ?? '-'} exit ${r.exit_code ?? '-'}${r.reason !== null ? ` (${r.reason})` : ''} started ${r.started_at ?? '-'} finished ${r.finished_at ?? '-'}`);
    }
    if ((view.fires ?? []).length > 0) {
      out(color.bold('fires:'));
      for (const f of view.fires ?? []) out(`  ${f.fire_time} ${f.outcome}${f.child !== null ? ` ${f.child}` : ''}${f.missed_from !== null ? ` (missed from ${f.missed_from})` : ''}`);
    }
    return ExitCodes.ok;
  } finally {
    await client.close();
  }
}

/** The task's dependencies and theirs, breadth first, at most TREE_NODES reads. */
async function upstream(client: TangerineClient, root: TaskView): Promise<Map<string, Node>> {
  const nodes = new Map<string, Node>([[root.name, { state: root.state, dependencies: root.spec.dependencies }]]);
  let frontier = [...root.spec.dependencies];
  while (frontier.length > 0 && nodes.size < TREE_NODES) {
    const batch = [...new Set(frontier.filter((n) => !nodes.has(n)))].slice(0, TREE_NODES - nodes.size);
    const views = await Promise.all(batch.map((n) => getOrNull(client, n)));
    frontier = [];
    batch.forEach((n, i) => {
      const v = views[i] ?? null;
      nodes.set(n, v === null ? null : { state: v.state, dependencies: v.spec.dependencies });
      if (v !== null) frontier.push(...v.spec.dependencies);
    });
  }
  return nodes;
}

// --- logs ---

export interface LogsOpts { attempt?: number; follow?: boolean; timeout?: number }

export async function logs(connect: Connect, name: string, opts: LogsOpts): Promise<number> {
  if (opts.attempt !== undefined && (!Number.isInteger(opts.attempt) || opts.attempt < 1)) throw usage('--attempt', `must be a whole number of at least 1 (got ${opts.attempt})`);
  const client = await connect();
  try {
    let view = await client.get(name);
    if (!opts.follow) {
      const attempt = opts.attempt ?? view.attempt;
      if (attempt === 0) throw new ServerError({ code: 'not_found', message: `task ${name} has not run yet (${view.state})`, field: 'attempt' });
      process.stdout.write((await client.output(name, attempt)).output);
      return ExitCodes.ok;
    }
    // Follows one run after the other (a retry is a new attempt) until the task's run is over: each run's output
    // live as its agent sends it (client.follow), completed from the ledger at its end.
    let attempt = opts.attempt ?? Math.max(1, view.attempt);
    const since = attempt - 1;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), opts.timeout !== undefined ? opts.timeout * 1000 : FOLLOW_FOREVER_MS);
    try {
      for (;;) {
        for await (const chunk of client.follow(name, attempt, { signal: deadline.signal })) {
          if (chunk.skipped) err(color.dim(`--- ${name}: ${chunk.skipped} characters of output skipped (more than the agent sends live) ---`));
          process.stdout.write(chunk.data);
        }
        if (deadline.signal.aborted) throw usage('--timeout', `task ${name} did not end within ${opts.timeout} s`);
        view = await client.get(name);
        const code = exitWhenEnded(view, since);
        if (code !== null && view.attempt <= attempt) return code;
        attempt += 1;
        err(color.dim(`--- ${name}: attempt ${attempt} ---`));
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await client.close();
  }
}

// --- rm ---

export async function rm(connect: Connect, names: readonly string[]): Promise<number> {
  let list = [...names];
  if (list.length === 0 || (list.length === 1 && list[0] === '-')) {
    if (process.stdin.isTTY && list.length === 0) throw usage('NAME', 'give the names of the tasks to cancel, or - to read them from stdin');
    list = readInput('-').split(/\s+/).filter(Boolean);
  }
  list = [...new Set(list)];
  if (list.length === 0) return ExitCodes.ok;
  const client = await connect();
  let failed = 0;
  try {
    // 16 at a time: each waits for its own outcome, and a thousand names do not open a thousand subscriptions at once.
    for (let i = 0; i < list.length; i += SUBMIT_AT_ONCE) {
      await Promise.all(list.slice(i, i + SUBMIT_AT_ONCE).map(async (name) => {
        try {
          // Cancelling a cancelled task changes nothing and intake says nothing about it (no event, no rejection):
          // known from the ledger, it is done without waiting for an outcome that never comes.
          if ((await getOrNull(client, name))?.state === 'cancelled') {
            out(`${name} cancelled (already)`);
            return;
          }
          const r = await client.cancel(name, { wait: true });
          if (r.outcome?.rejected) {
            failed++;
            errorLine(`${name}: ${r.outcome.rejected.reason} (${r.outcome.rejected.code})`);
          } else {
            out(`${name} cancelled`);
          }
        } catch (e) {
          failed++;
          errorLine(`${name}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }));
    }
  } finally {
    await client.close();
  }
  return failed > 0 ? ExitCodes.failed : ExitCodes.ok;
}

// --- hosts ---

export async function hosts(connect: Connect, opts: { output?: string; state?: string }): Promise<number> {
  const format = parseFormat(opts.output, ['table', 'json', 'yaml']);
  const state = opts.state;
  if (state !== undefined && !['up', 'draining', 'down'].includes(state)) throw usage('--state', `must be up, draining or down (got ${JSON.stringify(state)})`);
  const client = await connect();
  try {
    const all = [];
    for await (const h of client.hostsAll(state !== undefined ? { state: state as 'up' } : {})) all.push(h);
    if (format !== 'table') print(format, all);
    else if (all.length === 0) err('no hosts');
    else out(table(HOSTS_HEAD, all.map((h) => hostRow(h, Date.now()))));
    return ExitCodes.ok;
  } finally {
    await client.close();
  }
}

export async function drain(connect: Connect, host: string, undo: boolean, opts: { output?: string }): Promise<number> {
  const format = parseFormat(opts.output, ['table', 'json']);
  const client = await connect();
  try {
    const r = undo ? await client.undrain(host) : await client.drain(host);
    if (format === 'json') print('json', r);
    else out(`${r.host} ${r.state}`);
    return ExitCodes.ok;
  } finally {
    await client.close();
  }
}

// --- events ---

export async function events(connect: Connect, opts: { name?: string; kind?: string[]; from?: string; output?: string; count?: number }): Promise<number> {
  const format = parseFormat(opts.output, ['table', 'json']);
  const kinds = splitList(opts.kind ?? []);
  for (const k of kinds) if (!['task', 'host', 'rejection', 'fleet'].includes(k)) throw usage('--kind', `must be among task, host, rejection, fleet (got ${JSON.stringify(k)})`);
  const from = opts.from ?? 'now';
  if (from !== 'now' && from !== 'first' && !/^[1-9]\d*$/.test(from)) throw usage('--from', `must be now, first or a stream sequence (got ${JSON.stringify(from)})`);
  const client = await connect();
  try {
    const watch = await client.watch({
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(kinds.length > 0 ? { kinds: kinds as WatchEvent['kind'][] } : {}),
      from: from === 'now' || from === 'first' ? from : Number(from),
    });
    let n = 0;
    for await (const e of watch) {
      out(format === 'json' ? JSON.stringify({ seq: e.seq, subject: e.subject, kind: e.kind, event: e.event }) : `${e.seq} ${eventLine(e)}`);
      if (opts.count !== undefined && ++n >= opts.count) break;
    }
    watch.stop();
    return ExitCodes.ok;
  } finally {
    await client.close();
  }
}
