import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideSilence, type SilenceDecision, type SilenceInput } from './silence.js';
import { Evidence } from './evidence.js';

const RULE = { share: 0.55, minHosts: 3, holdMs: 300_000 };

describe('decideSilence: a host lost, or the network?', () => {
  const cases: [string, SilenceInput, Pick<SilenceDecision, 'action' | 'event'> & { holdingSince: number | null }][] = [
    ['nobody silent', { silent: 0, total: 10, now: 1000, holdingSince: null }, { action: 'proceed', event: null, holdingSince: null }],
    ['one host of ten silent: a lost host', { silent: 1, total: 10, now: 1000, holdingSince: null }, { action: 'proceed', event: null, holdingSince: null }],
    ['half of them: below 55%', { silent: 5, total: 10, now: 1000, holdingSince: null }, { action: 'proceed', event: null, holdingSince: null }],
    ['six of ten at once: hold', { silent: 6, total: 10, now: 1000, holdingSince: null }, { action: 'hold', event: 'silence_suspected', holdingSince: 1000 }],
    ['still six of ten: hold on, no new event', { silent: 6, total: 10, now: 5000, holdingSince: 1000 }, { action: 'hold', event: null, holdingSince: 1000 }],
    ['they came back: proceed, hold over', { silent: 0, total: 10, now: 6000, holdingSince: 1000 }, { action: 'proceed', event: 'silence_cleared', holdingSince: null }],
    ['the hold lasted its time: take them for lost', { silent: 6, total: 10, now: 301_000, holdingSince: 1000 }, { action: 'proceed', event: 'silence_cleared', holdingSince: null }],
    ['two of three: hold', { silent: 2, total: 3, now: 0, holdingSince: null }, { action: 'hold', event: 'silence_suspected', holdingSince: 0 }],
    ['one of two: too small a fleet to hold', { silent: 1, total: 2, now: 0, holdingSince: null }, { action: 'proceed', event: null, holdingSince: null }],
    ['two of two: too small a fleet to hold', { silent: 2, total: 2, now: 0, holdingSince: null }, { action: 'proceed', event: null, holdingSince: null }],
    ['the only host: a lost host', { silent: 1, total: 1, now: 0, holdingSince: null }, { action: 'proceed', event: null, holdingSince: null }],
    ['every host of a thousand', { silent: 1000, total: 1000, now: 0, holdingSince: null }, { action: 'hold', event: 'silence_suspected', holdingSince: 0 }],
  ];
  for (const [label, input, expected] of cases) {
    it(label, () => {
      const d = decideSilence(RULE, input);
      assert.deepEqual({ action: d.action, event: d.event, holdingSince: d.holdingSince }, expected);
    });
  }
});

describe('Evidence: silence counts only when host-health hears the bus and writes the ledger', () => {
  const T = 10_000;
  const steps: [string, (e: Evidence) => void, number, number | null, boolean][] = [
    ['right after the start: not yet', () => undefined, 5_000, 0, false],
    ['a timeout after the start', () => undefined, 10_000, 0, true],
    ['NATS is away', () => undefined, 20_000, null, false],
    ['NATS came back 2 s ago', () => undefined, 22_000, 20_000, false],
    ['NATS came back a timeout ago', () => undefined, 30_000, 20_000, true],
    ['the ledger failed', (e) => e.ledgerFailed(), 31_000, 20_000, false],
    ['the ledger answered again', (e) => e.ledgerAnswered(32_000), 33_000, 20_000, false],
    ['a second answer does not restart the grace', (e) => e.ledgerAnswered(40_000), 41_000, 20_000, false],
    ['a timeout after the ledger came back', () => undefined, 42_000, 20_000, true],
  ];
  const evidence = new Evidence(T, 0);
  for (const [label, act, now, busSince, expected] of steps) {
    it(label, () => {
      act(evidence);
      assert.equal(evidence.mayMarkDown(now, busSince), expected);
    });
  }
});
