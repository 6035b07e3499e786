import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subjects, isValidationError } from '@tangerine/contracts';
import { readReport, screenReports } from './reports.js';

const enc = new TextEncoder();
const at = '2026-01-01T00:00:00.000Z';
const started = (host: string) => ({ name: 'a', attempt: 1, host, run_id: 'pid:1', at });
const exited = (host: string) => ({ name: 'a', attempt: 1, host, exit_code: 0, reason: null, output: '', started_at: at, finished_at: at });
const data = (v: unknown) => enc.encode(JSON.stringify(v));

describe('readReport: the reporter is the subject\'s host', () => {
  const cases: [string, string, unknown, string, string][] = [
    ['a start', Subjects.runStarted.make('h1'), started('h1'), 'started', 'h1'],
    ['an exit', Subjects.runExited.make('h1'), exited('h1'), 'exited', 'h1'],
    ['an exit that names another host', Subjects.runExited.make('h2'), exited('h1'), 'exited', 'h2'],
  ];
  for (const [label, subject, payload, kind, from] of cases) {
    it(`${label} on ${subject}: ${kind} from ${from}`, () => {
      const r = readReport(subject, data(payload));
      assert.deepEqual([r.kind, r.from, r.report], [kind, from, payload]);
    });
  }

  const refused: [string, string, unknown, string][] = [
    ['an old agent\'s subject', 'runs.exited', exited('h1'), 'subject'],
    ['a start on an exit\'s subject', Subjects.runExited.make('h1'), started('h1'), 'exit_code'],
    ['a report without its host', Subjects.runStarted.make('h1'), { ...started('h1'), host: undefined }, 'host'],
  ];
  for (const [label, subject, payload, field] of refused) {
    it(`sets aside ${label}, naming ${field}`, () => {
      assert.throws(() => readReport(subject, data(payload)), (e: unknown) => isValidationError(e) && (e as { field?: string }).field === field);
    });
  }
});

describe('screenReports', () => {
  it('passes on the reports whose payload names their sender, and holds back the others', () => {
    const own = readReport(Subjects.runExited.make('h1'), data(exited('h1')));
    const lying = readReport(Subjects.runExited.make('h2'), data(exited('h1')));
    const ownStart = readReport(Subjects.runStarted.make('h2'), data(started('h2')));
    const lyingStart = readReport(Subjects.runStarted.make('h1'), data(started('h3')));
    assert.deepEqual(screenReports([own, lying, ownStart, lyingStart]), { genuine: [own, ownStart], mismatched: [lying, lyingStart] });
    assert.deepEqual(screenReports([]), { genuine: [], mismatched: [] });
  });
});
