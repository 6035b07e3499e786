// Differential test: libs/cron against croner, an independent cron implementation (a dev dependency only).
// Generated expressions (seeded, so every run is the same), each in one zone from a start instant in 2000-2037,
// half of them next to a DST change. For each, the next FIRES fire times and the latest fire time at the start
// are compared; every instant that only one of the two gives is classified by `classify` as a documented rule
// (RULES) or a bug, and any bug fails the test.
//
// Figures of the run with SEED below (they change only with the seed, the generator or a rule):
//   3,000 expressions: 1,030 with a seconds field, 297 with H, 107 macros (1 more was generated and rejected
//   as never firing); 3,000 cases, 1,443 of them next to a DST change; 11,901 fire times and 3,000 latest
//   fire times compared. 2,874 cases identical; the 126 others differ by documented rules only:
//     gapOnce       87 instants (spring forward: Tangerine fires skipped times once, at the jump)
//     firstShowing 108 instants (fall back: Tangerine fires a repeated time once, unless every hour)
//     lookBack       3 latest fire times (older than Tangerine's 400-day look-back)
//   0 bugs. About 10 s of CPU on the 2-core development machine under other engineers' load; most of it is
//   croner's nextRuns (0.7 ms a call) and cron-parser's stepping inside nextFire, hence one case per
//   expression and 4 fire times.
//
// How croner is run, so that the rules the two share are really compared:
//  - domAndDow is set per expression to Vixie cron's day-field rule, read from the text (true when either day
//    field starts with `*`): croner's AND and OR matching then checks libs/cron's. (croner's own default ORs
//    unless a field is exactly `*`, so it ORs `*/2`.)
//  - sloppyRanges: true, for the `a/n` form (5/10 = 5-59/10) that Tangerine accepts; mode '5-or-6-parts',
//    as croner's 7-field form (a year) is not Tangerine syntax.
//  - H (Jenkins) is Tangerine's own: for those expressions croner gets the resolved form, so their numbers are
//    compared (the hash itself is pinned in expression.test.ts).
//  - Not generated: a weekday range ending in SUN (`MON-SUN`, which croner reads as ending at 7, Sunday, and
//    Tangerine refuses, as Vixie cron does), `7/n` in day of week (croner finds no fire time), and the
//    syntax Tangerine refuses (L, W, #, ?).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cron } from 'croner';
import { latestFire, nextFire, parseCron, type CronSchedule } from './index.js';
import { parseExpression } from './expression.js';
import { clockReading, matchesWall } from './testing.js';
import type { ParsedField } from './fields.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------------------
// The classification: a pure function of what is known about one instant that only one side gives.

/** The documented rules by which Tangerine's fire times differ from croner's (README, "Time zones and DST"). */
const RULES = {
  gapOnce:
    "spring forward: Tangerine fires a schedule's wall times skipped by the gap once, at the jump; croner skips them for the jobs it counts as interval jobs",
  firstShowing:
    'fall back: Tangerine fires a repeated wall time at its first showing only, unless the hour field allows every hour; croner fires interval jobs at both',
  lookBack: 'latestFire looks back 400 days at most; croner further',
} as const;
type Rule = keyof typeof RULES;

interface Difference {
  /** Which implementation alone gives `instant`. */
  only: 'tangerine' | 'croner';
  instant: number;
  /** For a latest fire time that only one side has at all: how long before the start it is; else null. */
  latestAge: number | null;
  /** The zone's offset change within 3 hours of `instant`: when, and the offsets (ms) before and after. */
  change: { at: number; before: number; after: number } | null;
  /** The wall time the clocks show at `instant` matches the schedule. */
  matchesShown: boolean;
  /** A wall time in the gap of `change` (if it is a spring forward) matches the schedule. */
  matchesSkipped: boolean;
  /** The hour field allows all 24 hours: Tangerine's schedules that follow elapsed time through a fall back. */
  allHours: boolean;
  /** croner's "fixed-time" job (its fixedTimeRule "single-value"): one value, no `*` or `/`, in second, minute and hour. */
  cronerFixed: boolean;
}

function classify(d: Difference): Rule | 'bug' {
  if (d.latestAge !== null) return d.only === 'croner' && d.latestAge > 400 * DAY ? 'lookBack' : 'bug';
  const change = d.change;
  if (change === null) return 'bug';
  if (change.after > change.before) {
    // A gap. Tangerine alone fires at the jump for a matching skipped time; croner skips it (interval job).
    return d.only === 'tangerine' && d.instant === change.at && d.matchesSkipped && !d.cronerFixed ? 'gapOnce' : 'bug';
  }
  // An overlap: [at, at + before - after) shows the repeated wall times a second time.
  const secondShowing = d.instant >= change.at && d.instant < change.at + change.before - change.after;
  return d.only === 'croner' && secondShowing && d.matchesShown && !d.allHours && !d.cronerFixed ? 'firstShowing' : 'bug';
}

describe('differential: classify', () => {
  const gap = { at: Date.UTC(2026, 2, 8, 7), before: -5 * HOUR, after: -4 * HOUR };
  const overlap = { at: Date.UTC(2026, 10, 1, 6), before: -4 * HOUR, after: -5 * HOUR };
  const base: Difference = {
    only: 'tangerine', instant: gap.at, latestAge: null, change: gap, matchesShown: false, matchesSkipped: true, allHours: false, cronerFixed: false,
  };
  const table: [string, Partial<Difference>, Rule | 'bug'][] = [
    ['Tangerine alone at the jump, a skipped time matches', {}, 'gapOnce'],
    ['at the jump, but nothing skipped matches', { matchesSkipped: false }, 'bug'],
    ['at the jump, but croner treats it as a fixed-time job (it fires those at the jump too)', { cronerFixed: true }, 'bug'],
    ['Tangerine alone in a gap case, not at the jump', { instant: gap.at + MINUTE }, 'bug'],
    ['croner alone at the jump', { only: 'croner' }, 'bug'],
    ['no change nearby', { change: null }, 'bug'],
    ['croner alone at a second showing of a matching time', { only: 'croner', change: overlap, instant: overlap.at + 30 * MINUTE, matchesShown: true }, 'firstShowing'],
    ['the same, at the change itself', { only: 'croner', change: overlap, instant: overlap.at, matchesShown: true }, 'firstShowing'],
    ['the same, just after the second showings', { only: 'croner', change: overlap, instant: overlap.at + HOUR, matchesShown: true }, 'bug'],
    ['the same, before the change', { only: 'croner', change: overlap, instant: overlap.at - MINUTE, matchesShown: true }, 'bug'],
    ['the same, but the hour field allows every hour', { only: 'croner', change: overlap, instant: overlap.at + 30 * MINUTE, matchesShown: true, allHours: true }, 'bug'],
    ['the same, but croner treats it as a fixed-time job', { only: 'croner', change: overlap, instant: overlap.at + 30 * MINUTE, matchesShown: true, cronerFixed: true }, 'bug'],
    ['the same, but the shown time does not match', { only: 'croner', change: overlap, instant: overlap.at + 30 * MINUTE }, 'bug'],
    ['Tangerine alone at a second showing', { change: overlap, instant: overlap.at + 30 * MINUTE, matchesShown: true }, 'bug'],
    ['croner alone has a latest fire time, older than 400 days', { only: 'croner', latestAge: 401 * DAY }, 'lookBack'],
    ['croner alone has a latest fire time, within 400 days', { only: 'croner', latestAge: 399 * DAY }, 'bug'],
    ['Tangerine alone has a latest fire time', { latestAge: 401 * DAY }, 'bug'],
    ['latest fire times that differ, both given', { only: 'croner', change: overlap, instant: overlap.at + 30 * MINUTE, matchesShown: true, latestAge: null }, 'firstShowing'],
  ];
  for (const [label, overrides, expected] of table) it(label, () => assert.equal(classify({ ...base, ...overrides }), expected));
});

// ---------------------------------------------------------------------------------------------------------
// Generated cases.

const SEED = 20261101;
const EXPRESSIONS = 3000;
const FIRES = 4;
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo'] as const;
/** Years whose DST changes are start points (Sao Paulo had DST until 2019; Lord Howe's moves 30 minutes). */
const CHANGE_YEARS = [2001, 2009, 2015, 2018, 2024, 2026, 2033, 2037];

/** mulberry32: a small seeded PRNG, so every run generates the same cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldShape {
  min: number;
  max: number;
  /** Values drawn half of the time, to land near DST changes (hours 0-3) or month ends. */
  hot: readonly number[];
  /** Name of value v, or null: month and weekday names in random case. */
  name: ((v: number) => string | null) | null;
  /** Chance of `*` alone. */
  starChance: number;
}

const anyCase = (r: Random, s: string): string => pick(r, [s, s.toLowerCase(), s[0] + s.slice(1).toLowerCase()]);

function field(r: Random, shape: FieldShape): string {
  if (r() < shape.starChance) return '*';
  const value = (): number => (r() < 0.5 ? pick(r, shape.hot) : int(r, shape.min, shape.max));
  const text = (v: number): string => {
    const name = shape.name?.(v) ?? null;
    return name !== null && r() < 0.4 ? anyCase(r, name) : String(v);
  };
  const range = (): string => {
    const a = value();
    const b = value();
    // Not compared: a weekday range ending in SUN (`MON-SUN`), which croner reads as ending at 7, Sunday,
    // while Tangerine (as Vixie cron) reads SUN as 0 everywhere and refuses MON-SUN.
    const end = Math.max(a, b) === 0 && shape.max === 7 ? '0' : text(Math.max(a, b));
    return `${text(Math.min(a, b))}-${end}`;
  };
  const span = shape.max - shape.min + 1;
  const step = (): number => int(r, 1, Math.max(2, Math.floor(span / 2)));
  const part = (): string => {
    const k = r();
    if (k < 0.35) return text(value());
    if (k < 0.6) return range();
    if (k < 0.75) return `${range()}/${step()}`;
    // `a/n` runs from a to the field's end; 7/n in day of week is only Sunday, which croner does not take.
    if (k < 0.85) return `${Math.min(value(), shape.max === 7 ? 6 : shape.max)}/${step()}`;
    return `*/${step()}`;
  };
  const k = r();
  if (k < 0.6) return part();
  if (k < 0.95) return Array.from({ length: int(r, 2, 4) }, part).join(',');
  return `*,${part()}`;
}

const SHAPES = {
  second: { min: 0, max: 59, hot: [0, 30], name: null, starChance: 0.1 },
  minute: { min: 0, max: 59, hot: [0, 15, 30, 45, 59], name: null, starChance: 0.15 },
  hour: { min: 0, max: 23, hot: [0, 1, 2, 3, 23], name: null, starChance: 0.2 },
  dayOfMonth: { min: 1, max: 31, hot: [1, 13, 28, 29, 30, 31], name: null, starChance: 0.55 },
  month: { min: 1, max: 12, hot: [2, 3, 4, 10, 11], name: (v: number) => MONTHS[v - 1] ?? null, starChance: 0.6 },
  dayOfWeek: { min: 0, max: 7, hot: [0, 1, 5, 6, 7], name: (v: number) => WEEKDAYS[v] ?? null, starChance: 0.55 },
} satisfies Record<string, FieldShape>;

const H_FORMS = ['H', 'H/15', 'H(0-29)', 'H(10-40)/10', 'H/2'];
/** Vixie cron's macros and what they stand for. */
const MACROS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *',
};

interface Generated {
  expression: string;
  sixFields: boolean;
  usesH: boolean;
  macro: boolean;
}

function expression(r: Random): Generated {
  if (r() < 0.035) return { expression: pick(r, Object.keys(MACROS)), sixFields: false, usesH: false, macro: true };
  const fields = [field(r, SHAPES.minute), field(r, SHAPES.hour), field(r, SHAPES.dayOfMonth), field(r, SHAPES.month), field(r, SHAPES.dayOfWeek)];
  const usesH = r() < 0.1;
  if (usesH) {
    const i = pick(r, [0, 0, 1, 2]);
    fields[i] = i === 0 ? pick(r, H_FORMS) : i === 1 ? pick(r, ['H', 'H(0-3)', 'H/6']) : 'H';
  }
  const sixFields = r() < 0.35;
  if (sixFields) fields.unshift(field(r, SHAPES.second));
  return { expression: fields.join(' '), sixFields, usesH, macro: false };
}

// ---------------------------------------------------------------------------------------------------------
// Clock readings and DST changes from Intl directly (not from the library under test).


const offset = (tz: string, instant: number): number => clockReading(tz, instant) - instant;

/** The first whole second in (from, to] whose offset differs from the one at `from`. */
function bisect(tz: string, from: number, to: number): number {
  const before = offset(tz, from);
  let lo = from;
  let hi = to;
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
    if (offset(tz, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** DST changes of `tz` in the given years (a week apart at least, as those of the zones here are). */
function changes(tz: string, years: readonly number[]): number[] {
  const out: number[] = [];
  for (const year of years) {
    let previous = offset(tz, Date.UTC(year, 0, 1));
    for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 7 * DAY) {
      const next = offset(tz, t + 7 * DAY);
      if (next !== previous) out.push(bisect(tz, t, t + 7 * DAY));
      previous = next;
    }
  }
  return out;
}

/** The change within 3 hours of `instant`, if any. */
function changeNear(tz: string, instant: number): Difference['change'] {
  const before = offset(tz, instant - 3 * HOUR);
  const after = offset(tz, instant + 3 * HOUR);
  return before === after ? null : { at: bisect(tz, instant - 3 * HOUR, instant + 3 * HOUR), before, after };
}

function matchesInGap(fields: readonly ParsedField[], both: boolean, change: NonNullable<Difference['change']>): boolean {
  for (let wall = change.at + change.before; wall < change.at + change.after; wall += SECOND) {
    if (matchesWall(fields, both, wall)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// The comparison.

interface Case {
  generated: Generated;
  schedule: CronSchedule;
  fields: readonly ParsedField[];
  tz: string;
  start: number;
}

interface Tally {
  expressions: number;
  sixFields: number;
  withH: number;
  macros: number;
  rejected: number;
  cases: number;
  /** Cases starting within 2 days before or 2 hours after a DST change. */
  nearChange: number;
  compared: number;
  identical: number;
  rules: Record<Rule, number>;
  bugs: string[];
}

/** A start instant (whole seconds) in a year from 2000 to 2037, or next to one of the zone's DST changes. */
function startFor(r: Random, zoneChanges: readonly number[]): { start: number; nearChange: boolean } {
  const k = r();
  const whole = (t: number): number => Math.floor(t / SECOND) * SECOND;
  if (zoneChanges.length === 0 || k < 0.4) return { start: whole(Date.UTC(int(r, 2000, 2037), 0, 1) + r() * 365 * DAY), nearChange: false };
  const change = pick(r, zoneChanges);
  // Before a change at a distance spread from a second to two days (log-uniform), or in the 2 hours after it.
  const start = k < 0.85 ? change - Math.exp(r() * Math.log((2 * DAY) / SECOND)) * SECOND : change + r() * 2 * HOUR;
  return { start: whole(start), nearChange: true };
}

function compare(c: Case, tally: Tally): void {
  const { schedule, fields, tz, start } = c;
  const pattern = c.generated.usesH ? schedule.resolved : c.generated.expression;
  // The six fields croner is given (it knows the macros by name too).
  const written = (MACROS[pattern] ?? pattern).split(/\s+/);
  if (written.length === 5) written.unshift('0');
  // Vixie cron's day-field rule from the text itself, not from the parser under test.
  const domAndDow = written[3]!.startsWith('*') || written[5]!.startsWith('*');
  const cron = new Cron(pattern, { timezone: tz, mode: '5-or-6-parts', sloppyRanges: true, domAndDow });
  const theirs = cron.nextRuns(FIRES, new Date(start)).map((d) => d.getTime());
  const ours: number[] = [];
  for (let t = start; ours.length < FIRES; ) ours.push((t = nextFire(schedule, new Date(t)).getTime()));
  const oursLatest = latestFire(schedule, new Date(start))?.getTime() ?? null;
  // croner's previous runs are strictly before their reference; fire times are whole seconds.
  const theirsLatest = cron.previousRuns(1, new Date(start + SECOND))[0]?.getTime() ?? null;

  const until = Math.min(ours[ours.length - 1]!, theirs[theirs.length - 1] ?? Number.POSITIVE_INFINITY);
  const differences: Pick<Difference, 'only' | 'instant' | 'latestAge'>[] = [];
  for (const t of ours) if (t <= until && !theirs.includes(t)) differences.push({ only: 'tangerine', instant: t, latestAge: null });
  for (const t of theirs) if (t <= until && !ours.includes(t)) differences.push({ only: 'croner', instant: t, latestAge: null });
  // Of two latest fire times, the later is the one the other side lacks.
  if (oursLatest === null && theirsLatest !== null) differences.push({ only: 'croner', instant: theirsLatest, latestAge: start - theirsLatest });
  else if (oursLatest !== null && theirsLatest === null) differences.push({ only: 'tangerine', instant: oursLatest, latestAge: start - oursLatest });
  else if (oursLatest !== null && theirsLatest !== null && oursLatest !== theirsLatest) {
    differences.push({ only: oursLatest > theirsLatest ? 'tangerine' : 'croner', instant: Math.max(oursLatest, theirsLatest), latestAge: null });
  }
  tally.cases++;
  tally.compared += ours.filter((t) => t <= until).length;
  if (differences.length === 0) {
    tally.identical++;
    return;
  }
  const allHours = fields[2]!.values.length === 24;
  const cronerFixed = [0, 1, 2].every((i) => !written[i]!.includes('*') && !written[i]!.includes('/') && fields[i]!.values.length === 1);
  for (const { only, instant, latestAge } of differences) {
    const change = changeNear(tz, instant);
    const difference: Difference = {
      only, instant, latestAge, change, allHours, cronerFixed,
      matchesShown: matchesWall(fields, domAndDow, clockReading(tz, instant)),
      matchesSkipped: change !== null && change.after > change.before && matchesInGap(fields, domAndDow, change),
    };
    const verdict = classify(difference);
    if (verdict === 'bug') {
      tally.bugs.push(
        `"${c.generated.expression}" (croner: "${pattern}", domAndDow ${domAndDow}) in ${tz} from ${new Date(start).toISOString()}: ` +
          `${only} alone has ${new Date(instant).toISOString()}; Tangerine ${ours.map((t) => new Date(t).toISOString()).join(' ')}, ` +
          `latest ${oursLatest === null ? null : new Date(oursLatest).toISOString()}; croner ${theirs.map((t) => new Date(t).toISOString()).join(' ')}, ` +
          `latest ${theirsLatest === null ? null : new Date(theirsLatest).toISOString()}`,
      );
    } else tally.rules[verdict]++;
  }
}

describe('differential: libs/cron against croner', () => {
  it(`agrees on ${EXPRESSIONS} generated expressions but for documented rules`, (t) => {
    const r = prng(SEED);
    const zoneChanges = new Map<string, number[]>(ZONES.map((tz) => [tz, changes(tz, tz === 'UTC' || tz === 'Asia/Kolkata' ? [] : CHANGE_YEARS)]));
    const tally: Tally = {
      expressions: 0, sixFields: 0, withH: 0, macros: 0, rejected: 0, cases: 0, nearChange: 0, compared: 0, identical: 0, rules: { gapOnce: 0, firstShowing: 0, lookBack: 0 }, bugs: [],
    };
    while (tally.expressions < EXPRESSIONS) {
      const generated = expression(r);
      // One case per expression (croner's nextRuns costs about 0.7 ms, most of the run time), in a zone
      // drawn with the DST zones twice as often as the others.
      const tz = pick(r, [...ZONES, ...ZONES.slice(1, 4), 'America/Sao_Paulo']);
      let schedule: CronSchedule;
      try {
        schedule = parseCron(generated.expression, { name: `task-${tally.expressions}`, timezone: tz });
      } catch {
        tally.rejected++; // a schedule that can never fire, such as `0 0 30 2 *`
        continue;
      }
      tally.expressions++;
      if (generated.sixFields) tally.sixFields++;
      if (generated.usesH) tally.withH++;
      if (generated.macro) tally.macros++;
      const { fields } = parseExpression(schedule.resolved, null);
      const { start, nearChange } = startFor(r, zoneChanges.get(tz) ?? []);
      if (nearChange) tally.nearChange++;
      compare({ generated, schedule, fields, tz, start }, tally);
    }
    const { bugs, ...counts } = tally;
    t.diagnostic(JSON.stringify(counts));
    assert.deepEqual(bugs.slice(0, 10), [], `${bugs.length} differences no documented rule explains`);
    assert.ok(tally.expressions >= 3000 && tally.cases >= 3000, JSON.stringify(counts));
    assert.ok(tally.compared >= 10_000, `only ${tally.compared} fire times compared`);
    // Each rule is met, so the cases do reach the DST changes (and the classification is exercised).
    for (const rule of ['gapOnce', 'firstShowing'] as const) assert.ok(tally.rules[rule] >= 10, `${rule}: ${tally.rules[rule]}`);
  });
});
