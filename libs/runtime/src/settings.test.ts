import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TangerineError } from '@tangerine/contracts';
import { Parse, RuleError, compileAll, conflict, defineConfig, setting, type Parser } from './settings.js';

function refuses(parse: Parser<unknown>, text: string, rule: string): void {
  assert.throws(() => parse(text), (err: unknown) => {
    assert.ok(err instanceof RuleError, `expected a RuleError, got ${String(err)}`);
    assert.equal(err.message, rule);
    return true;
  });
}

describe('parsers: accepted text', () => {
  const cases: [string, Parser<unknown>, string, unknown][] = [
    ['seconds', Parse.seconds(), '2', 2000],
    ['seconds', Parse.seconds(), '0.25', 250],
    ['seconds', Parse.seconds(), ' 1 ', 1000],
    ['seconds', Parse.seconds(), '1e1', 10000],
    ['seconds (rounded up to 1 ms)', Parse.seconds(), '0.0001', 1],
    ['seconds up to 10', Parse.seconds(10), '10', 10000],
    ['seconds or off', Parse.secondsOrOff(), '0', 0],
    ['seconds or off', Parse.secondsOrOff(), '0.000', 0],
    ['seconds or off', Parse.secondsOrOff(), '1.5', 1500],
    ['integer', Parse.integer(0, 10), '0', 0],
    ['integer', Parse.integer(0, 10), '10', 10],
    ['integer', Parse.integer(-5, 5), '-5', -5],
    ['share', Parse.share(), '1', 1],
    ['share', Parse.share(), '0.001', 0.001],
    ['bytes', Parse.bytes(1024), '1024', 1024],
    ['bytes', Parse.bytes(1024), '9007199254740991', Number.MAX_SAFE_INTEGER],
    ['choice', Parse.choice(['a', 'b']), 'b', 'b'],
    ['matching', Parse.matching(/^[a-z]+$/), 'abc', 'abc'],
    ['urls', Parse.urls(['nats:']), 'nats://a:4222', 'nats://a:4222'],
    ['urls', Parse.urls(['nats:']), 'nats://a:1, nats://b:2', 'nats://a:1, nats://b:2'],
    ['urls, bare host', Parse.urls(['nats:'], { bareHost: true }), 'localhost:4222', 'localhost:4222'],
    ['urls, bare host', Parse.urls(['nats:'], { bareHost: true }), 'nats', 'nats'],
    ['labels', Parse.labels(), 'zone=a,gpu', { zone: 'a', gpu: 'true' }],
    ['labels', Parse.labels(), '', {}],
    ['labels', Parse.labels(), 'k=a=b', { k: 'a=b' }],
    ['list', Parse.list(['x', 'y']), ' y , x ,', ['y', 'x']],
    ['list (repeats dropped)', Parse.list(['x', 'y']), 'x,x,y', ['x', 'y']],
    ['list', Parse.list(['x', 'y']), ',', []],
    ['paths (normalized, repeats dropped)', Parse.paths(), '/tmp/, /var/tmp/tangerine,//tmp', ['/tmp', '/var/tmp/tangerine']],
    ['paths', Parse.paths(), '/srv/a/../b', ['/srv/b']],
    ['boolean', Parse.boolean(), 'TRUE', true],
    ['boolean', Parse.boolean(), 'yes', true],
    ['boolean', Parse.boolean(), '1', true],
    ['boolean', Parse.boolean(), 'no', false],
    ['boolean', Parse.boolean(), '0', false],
    ['timezone', Parse.timezone(), 'Europe/Berlin', 'Europe/Berlin'],
    ['timezone', Parse.timezone(), ':UTC', 'UTC'],
    ['timezone', Parse.timezone(), '', 'UTC'],
    ['text', Parse.text(), 'anything at all', 'anything at all'],
  ];
  for (const [name, parse, text, expected] of cases) {
    it(`${name}: ${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(parse(text), expected));
  }
});

describe('parsers: refused text, with the rule', () => {
  const cases: [string, Parser<unknown>, string, string][] = [
    ['seconds', Parse.seconds(), 'abc', 'must be a positive number of seconds (got "abc")'],
    ['seconds', Parse.seconds(), '', 'must be a positive number of seconds (got "")'],
    ['seconds', Parse.seconds(), ' ', 'must be a positive number of seconds (got " ")'],
    ['seconds', Parse.seconds(), '0', 'must be a positive number of seconds (got "0")'],
    ['seconds', Parse.seconds(), '-1', 'must be a positive number of seconds (got "-1")'],
    ['seconds', Parse.seconds(), '5s', 'must be a positive number of seconds (got "5s")'],
    ['seconds', Parse.seconds(), 'Infinity', 'must be a positive number of seconds (got "Infinity")'],
    ['seconds', Parse.seconds(), 'NaN', 'must be a positive number of seconds (got "NaN")'],
    ['seconds up to 10', Parse.seconds(10), '10.5', 'must be a number of seconds up to 10 (got "10.5")'],
    ['seconds or off', Parse.secondsOrOff(), '', 'must be a positive number of seconds, or 0 for off (got "")'],
    ['seconds or off', Parse.secondsOrOff(), 'off', 'must be a positive number of seconds, or 0 for off (got "off")'],
    ['seconds or off', Parse.secondsOrOff(), '-0.5', 'must be a positive number of seconds, or 0 for off (got "-0.5")'],
    ['integer', Parse.integer(0, 10), '11', 'must be an integer from 0 to 10 (got "11")'],
    ['integer', Parse.integer(0, 10), '-1', 'must be an integer from 0 to 10 (got "-1")'],
    ['integer', Parse.integer(0, 10), '1.5', 'must be an integer from 0 to 10 (got "1.5")'],
    ['integer', Parse.integer(0, 10), '', 'must be an integer from 0 to 10 (got "")'],
    ['integer', Parse.integer(0, 10), '0x5', 'must be an integer from 0 to 10 (got "0x5")'],
    ['integer', Parse.integer(0, 10000), '1e3', 'must be an integer from 0 to 10000 (got "1e3")'],
    ['share', Parse.share(), '0', 'must be a number above 0 and at most 1 (got "0")'],
    ['share', Parse.share(), '1.01', 'must be a number above 0 and at most 1 (got "1.01")'],
    ['share', Parse.share(), '50%', 'must be a number above 0 and at most 1 (got "50%")'],
    ['bytes', Parse.bytes(1024), '1KiB', 'must be an integer from 1024 to 9007199254740991 (got "1KiB")'],
    ['bytes', Parse.bytes(1024), '1023', 'must be an integer from 1024 to 9007199254740991 (got "1023")'],
    ['choice', Parse.choice(['a', 'b']), 'c', 'must be one of a, b (got "c")'],
    ['choice', Parse.choice(['a', 'b']), 'A', 'must be one of a, b (got "A")'],
    ['matching', Parse.matching(/^[a-z]+$/), 'a-b', 'must match [a-z]+ (got "a-b")'],
    ['urls', Parse.urls(['nats:']), 'http://a:1', 'must be a URL with a scheme of nats: (got "http://a:1")'],
    ['urls', Parse.urls(['nats:']), 'localhost:4222', 'must be a URL with a scheme of nats: (got "localhost:4222")'],
    ['urls', Parse.urls(['nats:']), 'nats://a:1,', 'must be a URL such as nats://host:port (got "")'],
    ['urls, bare host', Parse.urls(['nats:'], { bareHost: true }), 'a b', 'must be a URL such as nats://host:port (got "a b")'],
    ['urls (password hidden)', Parse.urls(['postgres:']), 'mysql://u:pw@db/x', 'must be a URL with a scheme of postgres: (got "mysql://u:***@db/x")'],
    ['labels', Parse.labels(), 'ok,-bad', 'label "-bad" must match [A-Za-z0-9][A-Za-z0-9_./-]{0,62}'],
    ['labels', Parse.labels(), '=a', 'label "" must match [A-Za-z0-9][A-Za-z0-9_./-]{0,62}'],
    ['list', Parse.list(['x', 'y']), 'x,z', 'each item must be one of x, y (got "z")'],
    ['paths', Parse.paths(), '/tmp,data', 'each item must be an absolute path (got "data")'],
    ['boolean', Parse.boolean(), 'maybe', 'must be true or false (got "maybe")'],
    ['boolean', Parse.boolean(), '', 'must be true or false (got "")'],
    ['timezone', Parse.timezone(), 'Mars/Olympus', 'must be an IANA time zone name such as "Europe/Berlin" or "UTC" (got "Mars/Olympus")'],
  ];
  for (const [name, parse, text, rule] of cases) {
    it(`${name}: ${JSON.stringify(text)}`, () => refuses(parse, text, rule));
  }
});

describe('setting', () => {
  const port = setting<number | null>('PORT', Parse.integer(1, 65535), { fallback: null });
  const strict = setting('STRICT', Parse.secondsOrOff(), { fallback: 5, emptyIsUnset: false });
  let calls = 0;
  const machine = setting('MACHINE', Parse.integer(0, 9), { fallback: () => { calls += 1; return 7; } });

  const cases: [string, () => unknown, unknown][] = [
    ['unset → the fallback', () => port.read({}), null],
    ['empty → the fallback', () => port.read({ PORT: '' }), null],
    ['set → parsed', () => port.read({ PORT: '80' }), 80],
    ['unset, empty refused → the fallback', () => strict.read({}), 5],
    ['a fallback function is called', () => machine.read({}), 7],
  ];
  for (const [name, run, expected] of cases) it(name, () => assert.deepEqual(run(), expected));

  it('calls a fallback function only when the variable is unset', () => {
    calls = 0;
    machine.read({ MACHINE: '3' });
    assert.equal(calls, 0);
  });

  const errors: [string, () => unknown, string][] = [
    ['names the variable before the rule', () => port.read({ PORT: 'http' }), 'PORT: must be an integer from 1 to 65535 (got "http")'],
    ['an empty value is refused when it must be', () => strict.read({ STRICT: '' }), 'STRICT: must be a positive number of seconds, or 0 for off (got "")'],
  ];
  for (const [name, run, message] of errors) {
    it(name, () => assert.throws(run, (err: unknown) => {
      assert.ok(err instanceof TangerineError);
      assert.equal(err.code, 'config_invalid');
      assert.equal(err.field, message.slice(0, message.indexOf(':')));
      assert.equal(err.message, message);
      return true;
    }));
  }

  it('lets an error that is not a rule through (a bug in a parser is not a bad setting)', () => {
    const broken = setting('BROKEN', () => { throw new TypeError('bug'); }, { fallback: 0 });
    assert.throws(() => broken.read({ BROKEN: 'x' }), TypeError);
  });
});

describe('defineConfig and conflicts', () => {
  const low = setting('LOW', Parse.seconds(), { fallback: 1000 });
  const high = setting('HIGH', Parse.seconds(), { fallback: 5000 });
  const other = setting('OTHER', Parse.integer(0, 9), { fallback: 0 });
  const order = conflict(high, low, (h, l) => h > l, (h, l) => `HIGH (${h} ms) must be above LOW (${l} ms)`);
  const both = defineConfig({ lowMs: low, highMs: high, other }, [order]);
  const lowOnly = defineConfig({ lowMs: low }, [order]);

  const cases: [string, Record<string, string>, string | null][] = [
    ['defaults agree', {}, null],
    ['values that agree', { LOW: '1', HIGH: '2' }, null],
    ['equal values conflict', { LOW: '2', HIGH: '2' }, 'HIGH, LOW: HIGH (2000 ms) must be above LOW (2000 ms)'],
    ['a reversed order conflicts', { LOW: '9' }, 'HIGH, LOW: HIGH (5000 ms) must be above LOW (9000 ms)'],
    ['a bad value and a conflict are both named', { OTHER: 'x', HIGH: '0.5' },
      'OTHER: must be an integer from 0 to 9 (got "x")\nHIGH, LOW: HIGH (500 ms) must be above LOW (1000 ms)'],
    ['a bad value skips the conflicts it is part of', { HIGH: 'x', LOW: '9' }, 'HIGH: must be a positive number of seconds (got "x")'],
  ];
  for (const [name, env, message] of cases) {
    it(name, () => {
      if (message === null) return assert.deepEqual(both.compile(env), { lowMs: (Number(env['LOW'] ?? 1)) * 1000, highMs: Number(env['HIGH'] ?? 5) * 1000, other: 0 });
      assert.throws(() => both.compile(env), (err: unknown) => {
        assert.ok(err instanceof TangerineError);
        assert.equal(err.code, 'config_invalid');
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  it('the field of a conflict is its first variable', () => {
    assert.throws(() => both.compile({ LOW: '9' }), (err: unknown) => err instanceof TangerineError && err.field === 'HIGH');
  });

  it('skips a conflict whose settings the config does not both hold', () => {
    assert.deepEqual(lowOnly.compile({ LOW: '9' }), { lowMs: 9000 });
  });

  it('lists its variables once each, and freezes what it compiles', () => {
    const twice = defineConfig({ a: low, b: low });
    assert.deepEqual(twice.variables, ['LOW']);
    assert.equal(Object.isFrozen(twice.compile({})), true);
  });

  it('compileAll: each problem once across configs, each config compiled on its own', () => {
    assert.deepEqual(compileAll([lowOnly, both], { LOW: '1' }), [{ lowMs: 1000 }, { lowMs: 1000, highMs: 5000, other: 0 }]);
    assert.throws(() => compileAll([lowOnly, both, lowOnly], { LOW: 'x' }), (err: unknown) =>
      err instanceof TangerineError && err.message === 'LOW: must be a positive number of seconds (got "x")' && err.field === 'LOW');
  });
});
