import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CronError, checkTimezone } from './index.js';
import { findTransition, offsetAt, wallOf } from './zone.js';

const HOUR = 3_600_000;

describe('checkTimezone', () => {
  for (const tz of ['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
    it(`accepts ${tz}`, () => assert.equal(checkTimezone(tz), tz));
  }

  const bad = ['Mars/Base', '', '+01:00', '-05:00', 'Europe/', 'Not A Zone'];
  for (const tz of bad) {
    it(`refuses ${JSON.stringify(tz)}`, () => {
      assert.throws(() => checkTimezone(tz), (e: unknown) => {
        assert.ok(e instanceof CronError);
        assert.equal(e.name, 'CronError');
        assert.equal(e.field, 'timezone');
        assert.equal(e.part, tz);
        assert.equal(e.message, `timezone: "${tz}" is not an IANA time zone name (e.g. "Europe/Berlin", "UTC")`);
        return true;
      });
    });
  }
});

describe('offsetAt', () => {
  const table: [string, string, number][] = [
    ['UTC', '2026-07-01T00:00:00Z', 0],
    ['Europe/Berlin', '2026-01-15T12:00:00Z', 1 * HOUR],
    ['Europe/Berlin', '2026-07-15T12:00:00Z', 2 * HOUR],
    ['America/New_York', '2026-01-15T12:00:00Z', -5 * HOUR],
    ['America/New_York', '2026-07-15T12:00:00Z', -4 * HOUR],
    ['Asia/Kolkata', '2026-07-15T12:34:56.789Z', 5.5 * HOUR],
    ['Australia/Lord_Howe', '2026-01-15T00:00:00Z', 11 * HOUR],
    ['Australia/Lord_Howe', '2026-07-15T00:00:00Z', 10.5 * HOUR],
  ];
  for (const [tz, at, offset] of table) it(`${tz} at ${at}`, () => assert.equal(offsetAt(tz, Date.parse(at)), offset));
});

describe('offsetAt: the fast reading of the clock agrees with formatToParts', () => {
  const options: Intl.DateTimeFormatOptions = {
    hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  };
  /** The reading by formatToParts alone, as wall-clock milliseconds. */
  const parts = (tz: string, instant: number): number => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { ...options, timeZone: tz }).formatToParts(instant).map((x) => [x.type, Number(x.value)]));
    return new Date(Date.UTC(2000, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!)).setUTCFullYear(p.year!);
  };
  // Instants from 1900 to 2100, a prime number of seconds apart so that every time of day comes up.
  const instants = Array.from({ length: 400 }, (_, i) => Date.UTC(1900, 0, 1) + i * 15_778_463_000 + 0.25);
  for (const tz of ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Chatham']) {
    it(tz, () => {
      for (const t of instants) assert.equal(offsetAt(tz, t), parts(tz, t) - Math.floor(t / 1000) * 1000, new Date(t).toISOString());
    });
  }

  it('falls back to formatToParts for a text of another shape', () => {
    const german = new Intl.DateTimeFormat('de-DE', { ...options, timeZone: 'Europe/Berlin' });
    const t = Date.parse('2026-10-25T01:30:00Z');
    assert.match(german.format(t), /^25\.10\.2026, 02:30:00$/);
    assert.equal(wallOf(german, t), Date.UTC(2026, 9, 25, 2, 30));
  });
});

describe('findTransition', () => {
  const table: [string, string, string][] = [
    ['America/New_York', '2026-03-07T12:00:00Z', '2026-03-08T07:00:00.000Z'],
    ['America/New_York', '2026-10-31T12:00:00Z', '2026-11-01T06:00:00.000Z'],
    ['Europe/Berlin', '2026-03-28T12:00:00Z', '2026-03-29T01:00:00.000Z'],
    ['Europe/Berlin', '2026-10-24T12:00:00Z', '2026-10-25T01:00:00.000Z'],
  ];
  for (const [tz, from, change] of table) {
    it(`${tz} changes at ${change}`, () => {
      const t = Date.parse(from);
      assert.equal(new Date(findTransition(tz, t, t + 24 * HOUR)).toISOString(), change);
    });
  }
});
