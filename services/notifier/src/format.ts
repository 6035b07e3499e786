import type { Item } from './items.js';

/** Slack's limits (https://api.slack.com/reference/block-kit/blocks): past them a message is refused with invalid_blocks. */
export const SlackLimits = {
  blocks: 50,
  headerChars: 150,
  sectionChars: 3000,
  fieldChars: 2000,
  fields: 10,
  /** The `text` fallback: Slack cuts it at 40,000; ours stays far below. */
  textChars: 3000,
} as const;

/** What trimmed text ends with, so a reader knows something is missing. */
export const TRIMMED = '… (trimmed)';

/** A Block Kit block, as much of it as the notifier writes. */
export type Block =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text?: { type: 'mrkdwn'; text: string }; fields?: { type: 'mrkdwn'; text: string }[] }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

export interface SlackMessage {
  /** Shown by notifications and clients without blocks. */
  text: string;
  blocks: Block[];
}

/** What a message is made from: the first events of its group, how many in all, and how many of each state. */
export interface Digest {
  group_key: string;
  items: readonly Item[];
  total: number;
  byState: Readonly<Record<string, number>>;
  /** When the first and the last event of the group were recorded. */
  first_at: Date | null;
  last_at: Date | null;
}

export interface FormatOptions {
  /** The status page's base URL (STATUS_URL): a task links to `<url>/tasks/<name>`, a digest to the page. */
  statusUrl: string | null;
  /** Events named in a digest; the rest are counted. */
  named: number;
  /** Lines of a failed run's output shown. */
  tailLines: number;
}

export const DEFAULT_FORMAT: FormatOptions = { statusUrl: null, named: 20, tailLines: 10 };

/** `text` cut to `max` characters, ending with TRIMMED when cut. */
export function trim(text: string, max: number, note = TRIMMED): string {
  if (text.length <= max) return text;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/** Slack's mrkdwn takes `&`, `<` and `>` as markup: a task's reason or output must not make a link or a mention. */
export function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The last `lines` lines of an output, without trailing blank lines. */
export function tail(output: string, lines: number): string {
  const all = output.replace(/\s+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

const ICONS: Record<string, string> = {
  failed: ':x:', blocked: ':no_entry:', cancelled: ':heavy_minus_sign:', success: ':white_check_mark:', host: ':rotating_light:',
  fleet: ':satellite_antenna:', dead: ':skull:', cron: ':alarm_clock:', scaling: ':chart_with_upwards_trend:',
};

function header(text: string): Block {
  return { type: 'header', text: { type: 'plain_text', text: trim(text, SlackLimits.headerChars), emoji: true } };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: trim(text, SlackLimits.sectionChars) } };
}

function field(label: string, value: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: trim(`*${label}*\n${value}`, SlackLimits.fieldChars) };
}

/** A code block holding `code`, trimmed from its start (the end of an output is what matters) to fit a section. */
function codeBlock(code: string): string {
  const fence = '```';
  const room = SlackLimits.sectionChars - 2 * fence.length - 2;
  // A ``` inside the output would close the block: written apart.
  const safe = escape(code).replaceAll('```', '` ` `');
  const body = safe.length <= room ? safe : `(trimmed) …${safe.slice(safe.length - room + 12)}`;
  return `${fence}\n${body}\n${fence}`;
}

function seconds(s: number): string {
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function taskLink(opts: FormatOptions, name: string): string {
  return opts.statusUrl === null ? '' : `${opts.statusUrl.replace(/\/+$/, '')}/tasks/${encodeURIComponent(name)}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** What became of a lost host's task, in words: `ready` → requeued. */
const LOST_OUTCOME: Record<string, string> = { ready: 'requeued', waiting: 'waiting for their next fire time', scheduled: 'waiting for their next fire time', failed: 'failed' };

/**
 * One Slack message of a group: a single task's end in full (header, fields, reason, its output's tail, a link),
 * or a digest that names the first `named` events and counts the rest, so that every event is named or counted.
 * Always a `text` fallback; within Slack's limits (blocks, header and section lengths), trimmed with a note.
 */
export function formatMessage(d: Digest, opts: FormatOptions = DEFAULT_FORMAT): SlackMessage {
  const first = d.items[0];
  const message = d.total === 1 && first?.type === 'task' ? taskMessage(first, opts) : digestMessage(d, opts);
  return fit(message);
}

function taskMessage(t: Extract<Item, { type: 'task' }>, opts: FormatOptions): SlackMessage {
  const title = `${ICONS[t.state] ?? ''} Task ${t.task} ${t.state}`.trim();
  const fields = [
    field('Task', `\`${escape(t.task)}\``),
    field('State', t.state),
    field('Attempt', t.max_failures === null ? String(t.attempt) : `${t.attempt} of ${t.max_failures}`),
    field('Host', t.host === null ? '—' : escape(t.host)),
  ];
  if (t.exit_code !== null) fields.push(field('Exit code', String(t.exit_code)));
  if (t.duration_s !== null) fields.push(field('Duration', seconds(t.duration_s)));
  const blocks: Block[] = [header(title), { type: 'section', fields }];
  if (t.reason) blocks.push(section(`*Reason*\n${escape(t.reason)}`));
  const out = t.output_tail === null ? '' : tail(t.output_tail, opts.tailLines);
  if (out !== '') blocks.push(section(codeBlock(out)));
  const link = taskLink(opts, t.task);
  if (link !== '') blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${link}|Open ${escape(t.task)} on the status page>` }] });
  const facts = [
    `attempt ${t.max_failures === null ? t.attempt : `${t.attempt} of ${t.max_failures}`}`, t.host === null ? null : `on ${t.host}`,
    t.exit_code === null ? null : `exit code ${t.exit_code}`, t.reason,
  ].filter((x) => x !== null && x !== '');
  return { text: `Task ${t.task} ${t.state}: ${facts.join(', ')}${link === '' ? '' : ` ${link}`}`, blocks };
}

function window(d: Digest): string {
  if (d.first_at === null || d.last_at === null) return '';
  const s = Math.max(0, (d.last_at.getTime() - d.first_at.getTime()) / 1000);
  return s < 1 ? '' : ` in ${seconds(s)}`;
}

/** One line for an event of a digest. */
function line(item: Item): string {
  switch (item.type) {
    case 'task': {
      const facts = [item.exit_code === null ? null : `exit ${item.exit_code}`, item.host === null ? null : `on ${item.host}`, item.reason].filter(Boolean);
      return `• \`${escape(item.task)}\`${facts.length > 0 ? ` — ${escape(facts.join(', '))}` : ''}`;
    }
    case 'task_lost': return `• \`${escape(item.task)}\` (attempt ${item.attempt}) → ${LOST_OUTCOME[item.state] ?? item.state}`;
    case 'host_down': return `• host ${escape(item.host)} down${item.reason ? `: ${escape(item.reason)}` : ''}`;
    case 'fire_skipped': return `• \`${escape(item.task)}\` ${item.fire_time}${item.missed_from === null ? '' : ` (missed since ${item.missed_from})`}`;
    case 'fleet': return `• ${item.kind === 'silence_suspected' ? 'silence suspected' : 'silence cleared'}: ${item.silent} of ${item.total} hosts silent — ${escape(item.reason)}`;
    case 'dead_letter': return `• \`${escape(item.subject)}\` #${item.seq} (${escape(item.state)}): ${escape(item.reason)}`;
    case 'scaling': {
      const what = item.kind === 'target' ? `target ${item.from ?? '?'} → ${item.to ?? '?'}` : item.kind.replace('_', ' ');
      const on = [item.host, item.instance].filter((x) => x !== null).map((x) => escape(x!)).join(' / ');
      return `• ${what}${on === '' ? '' : ` ${on}`}${item.code === null ? '' : ` (${escape(item.code)})`}: ${escape(item.reason)}`;
    }
  }
}

function title(d: Digest): string {
  const key = d.group_key;
  if (key.startsWith('host/')) {
    const host = key.slice('host/'.length);
    const lost = d.total - (d.byState['down'] ?? 0);
    const outcomes = Object.entries(d.byState).filter(([s]) => s !== 'down').sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${n.toLocaleString('en-US')} ${LOST_OUTCOME[s] ?? s}`);
    return `${ICONS['host']} host ${host} lost: ${lost === 0 ? 'it held no task' : `${plural(lost, 'task')} (${outcomes.join(', ')})`}`;
  }
  if (key === 'cron') return `${ICONS['cron']} ${plural(d.total, 'cron fire time')} skipped past the starting deadline${window(d)}`;
  if (key === 'fleet') return `${ICONS['fleet']} the fleet: ${plural(d.total, 'change')}${window(d)}`;
  if (key.startsWith('scaling/')) return `${ICONS['scaling']} autoscaler ${key.slice('scaling/'.length)}: ${plural(d.total, 'event')}${window(d)}`;
  if (key.startsWith('dead/')) return `${ICONS['dead']} ${plural(d.total, 'message')} set aside by ${key.slice('dead/'.length)}${window(d)}`;
  return `${ICONS[key] ?? ''} ${plural(d.total, 'task')} ${key}${window(d)}`.trim();
}

function digestMessage(d: Digest, opts: FormatOptions): SlackMessage {
  const head = title(d);
  const shown = d.items.slice(0, opts.named);
  const more = d.total - shown.length;
  const lines = shown.map(line);
  if (more > 0) lines.push(`…and ${plural(more, 'more', 'more')}`);
  const blocks: Block[] = [header(head)];
  // One section per 10 lines: a section holds 3,000 characters, and a line can be long.
  for (let i = 0; i < lines.length; i += 10) blocks.push(section(lines.slice(i, i + 10).join('\n')));
  if (opts.statusUrl !== null) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${opts.statusUrl}|Open the status page>` }] });
  const names = shown.map((i) => (i.type === 'scaling' ? i.host ?? i.instance ?? i.kind : 'task' in i ? i.task : 'host' in i ? i.host : 'subject' in i ? i.subject : i.kind));
  const text = `${head}: ${names.join(', ')}${more > 0 ? `, and ${more.toLocaleString('en-US')} more` : ''}`;
  return { text, blocks };
}

/** At most 50 blocks (the last says how many were left out) and a bounded `text`. */
function fit(m: SlackMessage): SlackMessage {
  let blocks = m.blocks;
  if (blocks.length > SlackLimits.blocks) {
    const cut = blocks.length - (SlackLimits.blocks - 1);
    blocks = [...blocks.slice(0, SlackLimits.blocks - 1), { type: 'context', elements: [{ type: 'mrkdwn', text: `(trimmed: ${cut} more blocks)` }] }];
  }
  return { text: trim(m.text, SlackLimits.textChars), blocks };
}
