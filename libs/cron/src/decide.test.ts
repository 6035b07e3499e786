import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideFire, parseCron, type CronSchedule, type FireDecision } from './index.js';

type Input = Parameters<typeof decideFire>[0];

const hourly = parseCron('0 * * * *', { name: 'task', timezone: 'UTC' });
const at = (hhmmss: string): Date => new Date(`2026-01-01T${hhmmss}Z`);

/** An hourly task, not busy, concurrency forbid, 10-minute starting deadline, unless overridden. */
function input(overrides: Partial<Input>): Input {
  return { due: at('10:00:00'), now: at('10:00:05'), schedule: hourly, busy: false, concurrency: 'forbid', startingDeadlineSeconds: 600, ...overrides };
}

describe('decideFire: decision table', () => {
  const table: [string, Partial<Input>, FireDecision][] = [
    ['on time', {},
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['late within the deadline', { now: at('10:09:00') },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['late by exactly the deadline', { now: at('10:10:00') },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['late beyond the deadline', { now: at('10:10:01') },
      { action: 'skip', reason: 'deadline', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['missed fire times, the latest within the deadline: one catch-up run', { due: at('07:00:00'), now: at('10:03:00') },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: at('07:00:00'), next: at('11:00:00') }],
    ['missed fire times, the latest beyond the deadline', { due: at('07:00:00'), now: at('10:30:00') },
      { action: 'skip', reason: 'deadline', fireTime: at('10:00:00'), missedFrom: at('07:00:00'), next: at('11:00:00') }],
    ['busy, forbid', { busy: true },
      { action: 'skip', reason: 'busy', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['busy, forbid, after missed fire times', { busy: true, due: at('07:00:00'), now: at('10:03:00') },
      { action: 'skip', reason: 'busy', fireTime: at('10:00:00'), missedFrom: at('07:00:00'), next: at('11:00:00') }],
    ['busy, allow', { busy: true, concurrency: 'allow' },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['busy, allow, beyond the deadline: busy-allow fires', { busy: true, concurrency: 'allow', now: at('10:30:00') },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['not busy, allow, beyond the deadline', { concurrency: 'allow', now: at('10:30:00') },
      { action: 'skip', reason: 'deadline', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['zero deadline, on the second', { now: at('10:00:00'), startingDeadlineSeconds: 0 },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: at('11:00:00') }],
    ['due off the schedule (stored before an edit): due is kept when it is the latest', { due: at('10:20:00'), now: at('10:25:00') },
      { action: 'fire', fireTime: at('10:20:00'), missedFrom: null, next: at('11:00:00') }],
    ['one-shot, late: never skipped for lateness', { schedule: null, due: at('10:00:00'), now: at('13:00:00') },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: null }],
    ['one-shot, busy, forbid', { schedule: null, busy: true },
      { action: 'skip', reason: 'busy', fireTime: at('10:00:00'), missedFrom: null, next: null }],
    ['one-shot, busy, allow', { schedule: null, busy: true, concurrency: 'allow' },
      { action: 'fire', fireTime: at('10:00:00'), missedFrom: null, next: null }],
  ];
  for (const [label, overrides, expected] of table) it(label, () => assert.deepEqual(decideFire(input(overrides)), expected));

  it('after a day of downtime: one run, at the latest fire time', () => {
    const decision = decideFire(input({ due: new Date('2025-12-31T09:00:00Z'), now: at('10:02:00') }));
    assert.deepEqual(decision, { action: 'fire', fireTime: at('10:00:00'), missedFrom: new Date('2025-12-31T09:00:00Z'), next: at('11:00:00') });
  });

  it('across spring forward in America/New_York: the 02:30 run fires at 03:00 EDT', () => {
    const schedule: CronSchedule = parseCron('30 2 * * *', { name: 'task', timezone: 'America/New_York' });
    const decision = decideFire(input({ schedule, due: new Date('2026-03-08T07:00:00Z'), now: new Date('2026-03-08T07:00:30Z') }));
    assert.deepEqual(decision, {
      action: 'fire', fireTime: new Date('2026-03-08T07:00:00Z'), missedFrom: null, next: new Date('2026-03-09T06:30:00Z'),
    });
  });

  it('in the second pass of a fall-back hour (America/New_York): the catch-up and the next fire at 02:00 EST', () => {
    // 01:00-01:59 shows at 05:xxZ (EDT) and again at 06:xxZ (EST); decided at 01:20 EST, after missing 01:00-01:45 EDT.
    const schedule: CronSchedule = parseCron('*/15 1-3 * * *', { name: 'task', timezone: 'America/New_York' });
    const decision = decideFire(input({ schedule, due: new Date('2026-11-01T05:00:00Z'), now: new Date('2026-11-01T06:20:00Z'), startingDeadlineSeconds: 3600 }));
    assert.deepEqual(decision, {
      action: 'fire', fireTime: new Date('2026-11-01T05:45:00Z'), missedFrom: new Date('2026-11-01T05:00:00Z'), next: new Date('2026-11-01T07:00:00Z'),
    });
  });

  it('works on a schedule rebuilt from stored strings', () => {
    const schedule: CronSchedule = { expression: 'H * * * *', resolved: '0 17 * * * *', timezone: 'UTC' };
    assert.deepEqual(decideFire(input({ schedule, due: at('10:17:00'), now: at('10:17:01') })), {
      action: 'fire', fireTime: at('10:17:00'), missedFrom: null, next: at('11:17:00'),
    });
  });
});
