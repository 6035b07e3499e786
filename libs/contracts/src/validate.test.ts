import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { compile, fieldOf, quote } from './validate.js';
import { Subjects } from './subjects.js';
import { isValidationError, type ValidationCode } from './errors.js';

function assertRejects(parse: () => unknown, code: ValidationCode, field: string, message: string): void {
  assert.throws(parse, (err: unknown) => {
    assert.ok(isValidationError(err), `expected a ValidationError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    assert.equal(err.message, message);
    return true;
  });
}

describe('fieldOf', () => {
  const cases: [string, string][] = [
    ['', 'value'],
    ['/', 'value'],
    ['//', 'value'],
    ['/name', 'name'],
    ['/runs/0/host', 'runs[0].host'],
    ['/env/FOO', 'env.FOO'],
    ['/dependencies/2', 'dependencies[2]'],
    ['/0', '[0]'],
    ['/0/name', '[0].name'],
    ['/a/0/1', 'a[0][1]'],
    ['/a/b/c', 'a.b.c'],
    ['/running/12/attempt', 'running[12].attempt'],
    ['/a/1x', 'a.1x'],
  ];
  for (const [path, expected] of cases) {
    it(`${JSON.stringify(path)} → ${expected}`, () => assert.equal(fieldOf(path), expected));
  }

  // BUG: TypeBox paths are JSON Pointers (RFC 6901): "/" in a key is written "~1" and "~" is written "~0".
  // fieldOf does not decode them, so a constraint "zone/x" is reported as "constraints.zone~1x".
  const escaped: [string, string][] = [
    ['/constraints/zone~1x', 'constraints.zone/x'],
    ['/constraints/a~0b', 'constraints.a~b'],
  ];
  for (const [path, expected] of escaped) {
    it(`decodes the JSON Pointer escape in ${path}`, () => assert.equal(fieldOf(path), expected));
  }
});

/** A list nested `n` levels deep, built without recursion. */
function deep(n: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < n; i++) v = [v];
  return v;
}

describe('quote', () => {
  const circular: Record<string, unknown> = {};
  circular['self'] = circular;
  const cases: [string, unknown, string][] = [
    ['a string', 'x', '"x"'],
    ['a string with quotes', 'say "hi"', '"say \\"hi\\""'],
    ['a number', 5, '5'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a boolean', false, 'false'],
    ['an array', [1, 'a'], '[1,"a"]'],
    ['an object', { a: 1 }, '{"a":1}'],
    ['a bigint (JSON.stringify throws)', 10n, '10'],
    ['a circular object (shown to a depth of 3)', circular, '{"self":{"self":{"self":{…}}}}'],
    ['a symbol', Symbol('s'), 'Symbol(s)'],
  ];
  for (const [label, value, expected] of cases) {
    it(label, () => assert.equal(quote(value), expected));
  }

  it('keeps a text of exactly max characters whole', () => {
    const s = 'a'.repeat(78); // 80 with its quotes
    assert.equal(quote(s), `"${s}"`);
  });

  it('shortens a longer text to max characters ending in …', () => {
    const out = quote('a'.repeat(79)); // 81 with its quotes
    assert.equal(out, `"${'a'.repeat(78)}…`);
    assert.equal(out.length, 80);
  });

  const limits: [unknown, number, string][] = [
    ['abcdef', 5, '"abc…'],
    ['abc', 5, '"abc"'],
    [[1, 2, 3, 4, 5], 4, '[1,…'],
    ['x'.repeat(1_000_000), 10, `"${'x'.repeat(8)}…`],
    [deep(5000), 20, '[[[[…]]]]'],
    [Array.from({ length: 1_000_000 }, (_, i) => i), 12, '[0,1,2,3,4,…'],
    [Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])), 14, '{"k0":0,"k1":…'],
  ];
  for (const [value, max, expected] of limits) {
    it(`quote(…, ${max}) → ${expected}`, () => {
      const out = quote(value, max);
      assert.equal(out, expected);
      assert.ok(out.length <= max);
    });
  }
});

describe('compile', () => {
  const schema = Type.Object(
    {
      name: Type.String({ pattern: '^[a-z]+$' }),
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: 9 })),
      tags: Type.Optional(Type.Array(Type.String(), { maxItems: 2 })),
      nested: Type.Optional(Type.Object({ flag: Type.Boolean() })),
      label: Type.Optional(Type.String({ minLength: 2, maxLength: 4 })),
      ratio: Type.Optional(Type.Number()),
    },
    { additionalProperties: false },
  );
  const v = compile(schema);

  it('returns the very value when it is valid, and check agrees', () => {
    const value = { name: 'abc', count: 3 };
    assert.equal(v.parse(value), value);
    assert.equal(v.check(value), true);
    assert.equal(v.check({ name: 'ABC' }), false);
  });

  const bad: [unknown, string, string][] = [
    [{}, 'name', 'name: is required'],
    [{ name: 'ABC' }, 'name', 'name: must match ^[a-z]+$ (got "ABC")'],
    [{ name: 5 }, 'name', 'name: must be a string (got 5)'],
    [{ name: 'a', count: 0 }, 'count', 'count: must be >= 1 (got 0)'],
    [{ name: 'a', count: 10 }, 'count', 'count: must be <= 9 (got 10)'],
    [{ name: 'a', count: 1.5 }, 'count', 'count: must be an integer (got 1.5)'],
    [{ name: 'a', tags: 'x' }, 'tags', 'tags: must be a list (got "x")'],
    [{ name: 'a', tags: ['a', 'b', 'c'] }, 'tags', 'tags: must have at most 2 items'],
    [{ name: 'a', tags: ['a', 1] }, 'tags[1]', 'tags[1]: must be a string (got 1)'],
    [{ name: 'a', nested: { flag: 'y' } }, 'nested.flag', 'nested.flag: must be true or false (got "y")'],
    [{ name: 'a', nested: 3 }, 'nested', 'nested: must be an object (got 3)'],
    [{ name: 'a', label: 'x' }, 'label', 'label: must be at least 2 characters'],
    [{ name: 'a', label: 'xxxxx' }, 'label', 'label: must be at most 4 characters'],
    [{ name: 'a', ratio: 'x' }, 'ratio', 'ratio: must be a number (got "x")'],
    [{ name: 'a', extra: 1 }, 'extra', 'extra: unknown field'],
    [null, 'value', 'value: must be an object (got null)'],
    [[], 'value', 'value: must be an object (got [])'],
  ];
  for (const [value, field, message] of bad) {
    it(`rejects ${JSON.stringify(value)} with "${message}"`, () =>
      assertRejects(() => v.parse(value), 'invalid_request', field, message));
  }

  it('uses the given error code', () => {
    assertRejects(() => v.parse({}, 'invalid_spec'), 'invalid_spec', 'name', 'name: is required');
  });
});

/** The entries of Subjects that are message definitions (not the subject-making functions). */
type Defined = { [K in keyof typeof Subjects]: (typeof Subjects)[K] extends { parse: unknown } ? K : never }[keyof typeof Subjects];

describe('message definitions parse with their schemas', () => {
  const states = 'waiting, scheduled, ready, placed, running, success, failed, blocked, cancelled';
  const bad: [Defined, unknown, string, string][] = [
    ['list', { state: 'sleeping' }, 'state', `state: must be one of ${states} (got "sleeping")`],
    ['list', { state: 5 }, 'state', `state: must be one of ${states} (got 5)`],
    ['list', { limit: 0 }, 'limit', 'limit: must be >= 1 (got 0)'],
    ['list', { prefix: 'x'.repeat(101) }, 'prefix', 'prefix: must be at most 100 characters'],
    ['runs', { name: 'a', before: 0 }, 'before', 'before: must be >= 1 (got 0)'],
    ['output', { name: 'a' }, 'attempt', 'attempt: is required'],
    ['hostsList', { state: 'gone' }, 'state', 'state: must be one of "up", "draining" or "down" (got "gone")'],
    ['list', { limit: 1.5 }, 'limit', 'limit: must be an integer (got 1.5)'],
    ['list', { after: 3 }, 'after', 'after: must be a string (got 3)'],
    ['list', { page: 2 }, 'page', 'page: unknown field'],
    ['get', {}, 'name', 'name: is required'],
    ['get', { name: 'bad name' }, 'name', 'name: must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ (got "bad name")'],
    ['get', { name: 'a', runs: true }, 'runs', 'runs: unknown field'],
    ['cancel', {}, 'name', 'name: is required'],
    ['cancel', 5, 'value', 'value: must be an object (got 5)'],
    ['agentStop', { name: 'a', attempt: 0, host: 'h1', reason: 'x' }, 'attempt', 'attempt: must be >= 1 (got 0)'],
    ['hostAnnounce',
      { host: 'h', labels: {}, slots: 1, executors: [], cpu: 0, memory: 0, running: [{ name: 'a', attempt: 'x' }], at: 't' },
      'running[0].attempt', 'running[0].attempt: must be an integer (got "x")'],
    ['hostAnnounce',
      { host: 'h', labels: {}, slots: -1, executors: [], cpu: 0, memory: 0, running: [], at: 't' },
      'slots', 'slots: must be >= 0 (got -1)'],
  ];
  for (const [which, value, field, message] of bad) {
    it(`${which}: ${message}`, () => assertRejects(() => Subjects[which].parse(value), 'invalid_request', field, message));
  }

  it('list: a bad state gives a message starting with "state: "', () => {
    assert.throws(() => Subjects.list.parse({ state: 'sleeping' }), (err: Error) => err.message.startsWith('state: '));
  });

  const good: [Defined, unknown][] = [
    ['list', {}],
    ['list', { state: 'running', limit: 10000, after: 'x' }],
    ['get', { name: 'a-1' }],
    ['cancel', { name: 'Z' }],
    ['list', { prefix: 'nightly-', limit: 1_000_000 }],
    ['runs', { name: 'a', before: 3, limit: 50 }],
    ['output', { name: 'a', attempt: 2 }],
    ['hostsList', {}],
    ['hostsList', { state: 'draining', after: 'h1', limit: 10 }],
  ];
  for (const [which, value] of good) {
    it(`${which} accepts ${JSON.stringify(value)}`, () => assert.deepEqual(Subjects[which].parse(value), value));
  }

  it('list accepts every task state', () => {
    for (const state of states.split(', ')) assert.deepEqual(Subjects.list.parse({ state }), { state });
  });
});
