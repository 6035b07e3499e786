import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subjects, isValidationError } from '@tangerine/contracts';
import { readAnnouncement } from './announcements.js';

const enc = new TextEncoder();
const announce = (host: string) => ({ host, labels: {}, slots: 1, executors: ['process'], cpu: 1, memory: 1, running: [], at: '2026-01-01T00:00:00.000Z' });
const data = (v: unknown) => enc.encode(JSON.stringify(v));

describe('readAnnouncement: an announcement counts only from the host it names', () => {
  it('takes one whose payload names its subject\'s host', () => {
    assert.deepEqual(readAnnouncement(Subjects.hostAnnounce.make('h1'), data(announce('h1'))), { kind: 'genuine', announce: announce('h1') });
  });
  const forged: [string, string, string][] = [
    ['another host\'s id, from h2', 'h2', 'h1'],
    ['a new host id, from h1', 'h1', 'fake-1'],
  ];
  for (const [label, from, claimed] of forged) {
    it(`refuses ${label}`, () => {
      assert.deepEqual(readAnnouncement(Subjects.hostAnnounce.make(from), data(announce(claimed))), { kind: 'forged', claimed, from });
    });
  }
  const unreadable: [string, string, unknown, string][] = [
    ['a subject that is no announcement', Subjects.runExited.make('h1'), announce('h1'), 'subject'],
    ['a payload without slots', Subjects.hostAnnounce.make('h1'), { ...announce('h1'), slots: undefined }, 'slots'],
  ];
  for (const [label, subject, payload, field] of unreadable) {
    it(`throws for ${label}, naming ${field}`, () => {
      assert.throws(() => readAnnouncement(subject, data(payload)), (e: unknown) => isValidationError(e) && (e as { field?: string }).field === field);
    });
  }
});
