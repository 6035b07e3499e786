import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { TASK_STATES, TRANSITIONS, isTaskState, type TaskState } from '@tangerine/contracts';

/** The transitions migration 008's function allows, read from its text: `WHEN 'from' THEN to_state IN ('a', 'b')`. */
async function migrationTransitions(): Promise<Map<string, string[]>> {
  const sql = await readFile(new URL('../migrations/008_state_transitions.sql', import.meta.url), 'utf8');
  const rows = [...sql.matchAll(/WHEN '(\w+)'\s+THEN to_state IN \(([^)]*)\)/g)];
  return new Map(rows.map((m) => [m[1]!, [...m[2]!.matchAll(/'(\w+)'/g)].map((s) => s[1]!)]));
}

describe('migration 008: the transitions the database allows', () => {
  it('are TRANSITIONS, state by state (so the two cannot drift)', async () => {
    const listed = await migrationTransitions();
    assert.deepEqual([...listed.keys()], [...TASK_STATES], 'one line per state, in lifecycle order');
    for (const from of TASK_STATES) {
      const to = listed.get(from) ?? [];
      assert.ok(to.every(isTaskState), `${from}: ${to.join(', ')}`);
      assert.deepEqual(to, [...TRANSITIONS[from]], from);
    }
  });

  it('counts every allowed pair once', async () => {
    const listed = await migrationTransitions();
    const pairs = [...listed].flatMap(([from, to]) => to.map((t) => `${from}>${t}`));
    assert.equal(new Set(pairs).size, pairs.length);
    assert.equal(pairs.length, Object.values(TRANSITIONS).reduce((n, l: readonly TaskState[]) => n + l.length, 0));
  });
});
