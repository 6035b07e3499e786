import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CronError, parseCron } from './index.js';
import { fieldHash } from './hash.js';

function resolve(expression: string, name = 'task'): string {
  return parseCron(expression, { name, timezone: 'UTC' }).resolved;
}

describe('parseCron: the schedule', () => {
  it('keeps the expression and time zone as given', () => {
    const s = parseCron('*/5 * * * *', { name: 'task', timezone: 'Europe/Berlin' });
    assert.deepEqual({ ...s }, { expression: '*/5 * * * *', resolved: '0 */5 * * * *', timezone: 'Europe/Berlin' });
    assert.ok(Object.isFrozen(s));
  });
});

describe('parseCron: resolved form', () => {
  const table: [string, string][] = [
    ['0,30 * * * *', '0 0,30 * * * *'],
    ['0 5 * * 0-4', '0 0 5 * * 0-4'],
    ['1-10 1,3,5 * 1-2,5,7-10 1-5', '0 1-10 1,3,5 * 1-2,5,7-10 1-5'],
    ['*/2 * * * * *', '*/2 * * * * *'],
    ['  0   12 *\t* MON-fri ', '0 0 12 * * MON-fri'],
    ['@hourly', '0 0 * * * *'],
    ['@daily', '0 0 0 * * *'],
    ['@midnight', '0 0 0 * * *'],
    ['@weekly', '0 0 0 * * 0'],
    ['@monthly', '0 0 0 1 * *'],
    ['@yearly', '0 0 0 1 1 *'],
    ['@annually', '0 0 0 1 1 *'],
    ['@DAILY', '0 0 0 * * *'],
  ];
  for (const [expression, resolved] of table) it(`"${expression}" → "${resolved}"`, () => assert.equal(resolve(expression), resolved));
});

describe('parseCron: H', () => {
  // Pinned values: H must pick the same times in every future version, or tasks would move.
  const pinned: [string, string, string][] = [
    ['H H * * *', 'backup', '0 30 14 * * *'],
    ['H H * * *', 'report', '0 31 2 * * *'],
    ['H H H H H H', 'backup', '3 30 14 1 10 0'],
    ['H H H H H H', 'report', '57 31 2 19 5 4'],
    ['H/15 * * * *', 'report', '0 1/15 * * * *'],
    ['H(0-29)/10 H(9-17) * * *', 'report', '0 1-29/10 11 * * *'],
    ['0 0 H * *', 'report', '0 0 0 19 * *'],
  ];
  for (const [expression, name, resolved] of pinned) {
    it(`"${expression}" for ${name} → "${resolved}"`, () => assert.equal(resolve(expression, name), resolved));
  }

  it('is the same for the same name', () => assert.equal(resolve('H H * * *', 'nightly'), resolve('H H * * *', 'nightly')));

  it('picks the same minute from the five- and six-field forms', () => {
    for (const name of ['a', 'b', 'backup', 'report-7']) {
      assert.equal(resolve('H * * * *', name).split(' ')[1], resolve('0 H * * * *', name).split(' ')[1]);
    }
  });

  const names = Array.from({ length: 1000 }, (_, i) => `task-${i}`);
  /** The number field `index` (of six) resolves to, for every name. */
  const picks = (expression: string, index: number): number[] => names.map((n) => Number(resolve(expression, n).split(' ')[index]));

  it('spreads different names across the field', () => {
    const minutes = picks('H * * * *', 1).slice(0, 120);
    const counts = new Map<number, number>();
    for (const m of minutes) counts.set(m, (counts.get(m) ?? 0) + 1);
    assert.ok(counts.size >= 45, `only ${counts.size} distinct minutes for 120 names`);
    assert.ok(Math.max(...counts.values()) <= 8, 'no minute is crowded');
  });

  const ranges: [string, string, number, number, number][] = [
    ['second', 'H * * * * *', 0, 0, 59],
    ['minute', 'H * * * *', 1, 0, 59],
    ['hour', '0 H * * *', 2, 0, 23],
    ['day of month (1-28, so every month has it)', '0 0 H * *', 3, 1, 28],
    ['month', '0 0 1 H *', 4, 1, 12],
    ['day of week', '0 0 * * H', 5, 0, 6],
    ['H(9-17) in hour', '0 H(9-17) * * *', 2, 9, 17],
    ['H(MON-FRI) in day of week', '0 0 * * H(MON-FRI)', 5, 1, 5],
  ];
  for (const [label, expression, index, min, max] of ranges) {
    it(`stays in range: ${label}`, () => {
      const values = picks(expression, index);
      assert.ok(values.every((v) => Number.isInteger(v) && v >= min && v <= max), `${expression}: ${values.join(',')}`);
      assert.equal(Math.min(...values), min, 'reaches the low end');
      assert.equal(Math.max(...values), max, 'reaches the high end');
    });
  }

  it('H/n starts at the hashed offset in [0, n) and steps by n', () => {
    for (const name of names) {
      const [start, step] = resolve('H/20 * * * *', name).split(' ')[1]!.split('/');
      assert.equal(step, '20');
      assert.equal(Number(start), fieldHash(name, 1) % 20);
    }
  });

  it('H(a-b)/n starts at a plus an offset in [0, n) and runs to b', () => {
    for (const name of names) {
      const field = resolve('H(10-40)/7 * * * *', name).split(' ')[1]!;
      const match = /^(\d+)-40\/7$/.exec(field);
      assert.ok(match, field);
      assert.equal(Number(match[1]), 10 + (fieldHash(name, 1) % 7));
    }
  });

  it('H(a-b)/n with a step wider than the range picks within the range', () => {
    for (const name of names) {
      const start = Number(resolve('H(1-5)/10 * * * *', name).split(' ')[1]!.split('-')[0]);
      assert.ok(start >= 1 && start <= 5, String(start));
    }
  });
});

describe('parseCron: errors', () => {
  const count = (n: number, e: string) =>
    `cron: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got ${n} in "${e}"`;
  const malformed = (field: string, part: string) =>
    `cron: ${field} field: "${part}" is not a value, range (a-b), step (*/n, a-b/n, a/n) or H form (H, H/n, H(a-b), H(a-b)/n)`;
  const table: [string, string, string | null][] = [
    ['* * *', count(3, '* * *'), null],
    ['', count(0, ''), null],
    ['* * * * * * *', count(7, '* * * * * * *'), null],
    ['61 * * * *', 'cron: minute field: "61" is out of range 0-59', '61'],
    ['0 1-61 * * * *', 'cron: minute field: "61" is out of range 0-59', '61'],
    ['60 * * * * *', 'cron: second field: "60" is out of range 0-59', '60'],
    ['* 24 * * *', 'cron: hour field: "24" is out of range 0-23', '24'],
    ['* * 0 * *', 'cron: day of month field: "0" is out of range 1-31', '0'],
    ['* * 32 * *', 'cron: day of month field: "32" is out of range 1-31', '32'],
    ['* * * 13 *', 'cron: month field: "13" is out of range 1-12', '13'],
    ['* * * 0 *', 'cron: month field: "0" is out of range 1-12', '0'],
    ['* * * * 8', 'cron: day of week field: "8" is out of range 0-7', '8'],
    ['* * * * FUNDAY', 'cron: day of week field: "FUNDAY" is not a weekday name or number', 'FUNDAY'],
    ['* * * JANUARY *', 'cron: month field: "JANUARY" is not a month name or number', 'JANUARY'],
    ['* MON * * *', 'cron: hour field: "MON" is not a number', 'MON'],
    ['* * L * *', 'cron: day of month field: "L" is not a number', 'L'],
    ['? * * * *', 'cron: minute field: "?" is not a number', '?'],
    ['* 5-2 * * *', 'cron: hour field: "5-2" is a range whose start is after its end', '5-2'],
    ['* 5-2/2 * * *', 'cron: hour field: "5-2" is a range whose start is after its end', '5-2'],
    ['* * * * FRI-MON', 'cron: day of week field: "FRI-MON" is a range whose start is after its end', 'FRI-MON'],
    ['*/0 * * * *', 'cron: minute field: "*/0" has a step of 0; the step must be at least 1', '*/0'],
    ['*/x * * * *', 'cron: minute field: "*/x" has a step that is not a whole number', '*/x'],
    ['1-5/ * * * *', 'cron: minute field: "1-5/" has a step that is not a whole number', '1-5/'],
    ['1,,2 * * * *', 'cron: minute field: "1,,2" has an empty part', '1,,2'],
    ['* 1, * * *', 'cron: hour field: "1," has an empty part', '1,'],
    ['1-2-3 * * * *', malformed('minute', '1-2-3'), '1-2-3'],
    ['1/2/3 * * * *', malformed('minute', '1/2/3'), '1/2/3'],
    ['-5 * * * *', malformed('minute', '-5'), '-5'],
    ['5- * * * *', malformed('minute', '5-'), '5-'],
    ['H5 * * * *', malformed('minute', 'H5'), 'H5'],
    ['H(1-5 * * * *', malformed('minute', 'H(1-5'), 'H(1-5'],
    ['H(5) * * * *', malformed('minute', 'H(5)'), 'H(5)'],
    ['H(50-70) * * * *', 'cron: minute field: "70" is out of range 0-59', '70'],
    ['H(5-2) * * * *', 'cron: minute field: "5-2" is a range whose start is after its end', '5-2'],
    ['H/0 * * * *', 'cron: minute field: "H/0" has a step of 0; the step must be at least 1', 'H/0'],
    ['@fortnightly', 'cron: "@fortnightly" is not a known macro; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly', '@fortnightly'],
    ['@daily 5', 'cron: "@daily 5" is not a known macro; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly', '@daily 5'],
    ['0 0 30 2 *', 'cron: day of month field: "30" never occurs in the months of the month field ("2")', '30'],
    ['0 0 31 APR,jun,9,11 *', 'cron: day of month field: "31" never occurs in the months of the month field ("APR,jun,9,11")', '31'],
    // A day field starting with `*` makes a day match both fields, so the day of month must exist.
    ['0 0 30 2 */2', 'cron: day of month field: "30" never occurs in the months of the month field ("2")', '30'],
  ];
  for (const [expression, message, part] of table) {
    it(`"${expression}"`, () => {
      assert.throws(() => parseCron(expression, { name: 'task', timezone: 'UTC' }), (e: unknown) => {
        assert.ok(e instanceof CronError, String(e));
        assert.equal(e.name, 'CronError');
        assert.equal(e.field, 'cron');
        assert.equal(e.message, message);
        assert.equal(e.part, part);
        return true;
      });
    });
  }

  it('accepts a day of month that only some allowed months have', () => {
    assert.doesNotThrow(() => parseCron('0 0 31 1-2 *', { name: 'task', timezone: 'UTC' }));
    assert.doesNotThrow(() => parseCron('0 0 29 2 *', { name: 'task', timezone: 'UTC' }));
  });

  it('accepts an impossible day of month when the day of week can match instead', () => {
    assert.doesNotThrow(() => parseCron('0 0 30 2 MON', { name: 'task', timezone: 'UTC' }));
    assert.doesNotThrow(() => parseCron('0 0 30 2 0-6', { name: 'task', timezone: 'UTC' }));
  });

  it('reports the time zone before the expression', () => {
    assert.throws(() => parseCron('nonsense', { name: 'task', timezone: 'Mars/Base' }), { name: 'CronError', message: /^timezone: / });
  });
});
