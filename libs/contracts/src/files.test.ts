import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidationError } from './errors.js';
import { checkFiles, fileNameRule, type TaskFile } from './files.js';
import { parseTaskSpec } from './spec.js';

const SHA = 'a'.repeat(64);
const file = (name: string, size = 1, sha256 = SHA): TaskFile => ({ name, sha256, size });

function refused(input: unknown, field: string, message: string, options = {}): void {
  assert.throws(() => parseTaskSpec(input, options), (err: unknown) => {
    assert.ok(isValidationError(err), `expected a ValidationError, got ${String(err)}`);
    assert.equal(err.code, 'invalid_spec');
    assert.equal(err.field, field);
    assert.equal(err.message, message);
    return true;
  });
}

describe('files: the spec field', () => {
  it('is kept as given, and absent when not given', () => {
    const files = [file('blanket.json', 12), file('data.csv', 0, 'b'.repeat(64))];
    assert.deepEqual(parseTaskSpec({ name: 'j', image: 'x', files }).files, files);
    assert.equal('files' in parseTaskSpec({ name: 'j', image: 'x' }), false);
    assert.deepEqual(parseTaskSpec({ name: 'j', image: 'x', files: [] }).files, []);
  });

  const cases: [string, unknown, string, string][] = [
    ['a name with a slash', [file('a/b')], 'files[0].name', 'files[0].name: must be a plain file name, without "/" (got "a/b")'],
    ['..', [file('ok'), file('..')], 'files[1].name', 'files[1].name: must be a plain file name, not ".."'],
    ['.', [file('.')], 'files[0].name', 'files[0].name: must be a plain file name, not "."'],
    ['an empty name', [file('')], 'files[0].name', 'files[0].name: must be at least 1 characters'],
    ['a name of 256 bytes', [file('é'.repeat(128))], 'files[0].name', 'files[0].name: must be at most 255 bytes'],
    ['a name twice', [file('a'), file('a')], 'files[1].name', 'files[1].name: "a" is listed twice'],
    ['a digest in upper case', [file('a', 1, 'A'.repeat(64))], 'files[0].sha256', `files[0].sha256: must match ^[0-9a-f]{64}$ (got "${'A'.repeat(64)}")`],
    ['a short digest', [file('a', 1, 'ab')], 'files[0].sha256', 'files[0].sha256: must match ^[0-9a-f]{64}$ (got "ab")'],
    ['a negative size', [file('a', -1)], 'files[0].size', 'files[0].size: must be >= 0 (got -1)'],
    ['a fractional size', [file('a', 1.5)], 'files[0].size', 'files[0].size: must be an integer (got 1.5)'],
    ['an unknown field', [{ ...file('a'), mode: 7 }], 'files[0].mode', 'files[0].mode: unknown field'],
    ['no list', { name: 'a' }, 'files', 'files: must be a list (got {"name":"a"})'],
    ['33 files', Array.from({ length: 33 }, (_, i) => file(`f${i}`)), 'files', 'files: must have at most 32 items'],
    ['a file over 64 MiB', [file('big', 64 * 1024 * 1024 + 1)], 'files[0].size', 'files[0].size: must be at most 67108864 bytes (FILES_MAX_BYTES; got 67108865)'],
    ['more than 256 MiB in all', Array.from({ length: 5 }, (_, i) => file(`f${i}`, 60 * 1024 * 1024)), 'files',
      'files: must be at most 268435456 bytes in all (FILES_MAX_TOTAL; got 314572800)'],
  ];
  for (const [what, files, field, message] of cases) {
    it(`refuses ${what}, naming ${field}`, () => refused({ name: 'j', image: 'x', files }, field, message));
  }

  it('takes its limits from the options (FILES_MAX_BYTES, FILES_MAX_TOTAL)', () => {
    const fileLimits = { maxBytes: 10, maxTotal: 15 };
    refused({ name: 'j', image: 'x', files: [file('a', 11)] }, 'files[0].size', 'files[0].size: must be at most 10 bytes (FILES_MAX_BYTES; got 11)', { fileLimits });
    refused({ name: 'j', image: 'x', files: [file('a', 10), file('b', 6)] }, 'files', 'files: must be at most 15 bytes in all (FILES_MAX_TOTAL; got 16)', { fileLimits });
    assert.equal(parseTaskSpec({ name: 'j', image: 'x', files: [file('a', 10), file('b', 5)] }, { fileLimits }).files?.length, 2);
  });
});

describe('fileNameRule', () => {
  const table: [string, string | null][] = [
    ['blanket.json', null], ['.hidden', null], ['..x', null], ['a b', null], ['x'.repeat(255), null],
    ['x'.repeat(256), 'must be at most 255 bytes'], ['', 'must not be empty'], ['a\u0000b', 'must not contain the NUL character'],
  ];
  for (const [name, rule] of table) it(`${JSON.stringify(name.slice(0, 20))} → ${String(rule)}`, () => assert.equal(fileNameRule(name), rule));
  it('checkFiles passes a list within the limits', () => assert.doesNotThrow(() => checkFiles([file('a'), file('b')])));
});
