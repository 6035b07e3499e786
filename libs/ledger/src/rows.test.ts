import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRowError, parseTaskSpec } from '@tangerine/contracts';
import { parseStoredSpec } from './rows.js';
import { toEvent, type EventRow } from './tasks/event-row.js';

const stored = parseTaskSpec({ name: 'a', executor: 'process', command: ['true'] });
const row: EventRow = { name: 'a', state: 'ready', attempt: 0, failures: 0, version: '3', host: null, reason: null, updated_at: new Date(0) };

describe('rows read back from the ledger are parsed', () => {
  it('a stored spec as intake wrote it parses to itself', () => assert.deepEqual(parseStoredSpec(JSON.parse(JSON.stringify(stored))), stored));

  const bad: [string, unknown, string][] = [
    ['a field of the wrong type', { ...stored, image: 5 }, 'tasks.spec.image'],
    ['a field missing', { ...stored, command: undefined }, 'tasks.spec.command'],
    ['a field this version does not know', { ...stored, priority: 3 }, 'tasks.spec.priority'],
    ['not an object', 'spec', 'tasks.spec'],
  ];
  for (const [label, spec, field] of bad) {
    it(`a stored spec with ${label} is a RowError naming ${field}`, () => {
      assert.throws(() => parseStoredSpec(spec), (err: unknown) => isRowError(err) && err.field === field && err.message.startsWith(`${field}: `)
        && err.code === 'invalid_row');
    });
  }

  it('an event row parses, and one with a state or a time of the wrong kind is a RowError naming the column', () => {
    assert.equal(toEvent(row, null).version, 3);
    assert.throws(() => toEvent({ ...row, state: 'sleeping' as EventRow['state'] }, null), (err: unknown) => isRowError(err) && err.field === 'tasks.state');
    assert.throws(() => toEvent({ ...row, updated_at: '1970-01-01' as unknown as Date }, null), (err: unknown) => isRowError(err) && err.field === 'tasks.updated_at');
  });
});
