import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUS_MIGRATIONS, checkMigrations, type BusMigration } from './migrations.js';

const m = (version: number, name = `step_${version}`): BusMigration => ({ version, name, up: async () => undefined });

describe('checkMigrations', () => {
  it('takes the shipped list', () => {
    assert.equal(checkMigrations(BUS_MIGRATIONS), BUS_MIGRATIONS);
  });

  const cases: [string, BusMigration[], RegExp | null][] = [
    ['an empty list', [], null],
    ['1, 2, 3', [m(1), m(2), m(3)], null],
    ['a list that starts at 2', [m(2)], /step_2: version must be 1 \(got 2\)/],
    ['a gap', [m(1), m(3)], /step_3: version must be 2 \(got 3\)/],
    ['a repeat', [m(1), m(1, 'again')], /again: version must be 2 \(got 1\)/],
    ['out of order', [m(2), m(1)], /version must be 1 \(got 2\)/],
    ['a name that is not snake_case', [m(1, 'Drop consumer')], /bus migration 1: name must be snake_case \(got "Drop consumer"\)/],
  ];
  for (const [what, list, refused] of cases) {
    it(`${refused ? 'refuses' : 'takes'} ${what}`, () => {
      if (refused) assert.throws(() => checkMigrations(list), refused);
      else assert.equal(checkMigrations(list), list);
    });
  }
});
