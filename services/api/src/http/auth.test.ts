import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenOf } from './auth.js';

const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

describe('the token of an Authorization header', () => {
  const cases: [string, string, string | undefined][] = [
    ['a bearer token', 'Bearer abcdefghijklmnop', 'abcdefghijklmnop'],
    ['bearer in any case, spaces around', 'bearer   abcdefghijklmnop  ', 'abcdefghijklmnop'],
    ['a URL user part (curl http://TOKEN@host/): the user, no password', basic('abcdefghijklmnop:'), 'abcdefghijklmnop'],
    ['a user without a colon', basic('abcdefghijklmnop'), 'abcdefghijklmnop'],
    ['a user and a password: the password', basic('ci:abcdefghijklmnop'), 'abcdefghijklmnop'],
    ['empty Basic credentials', basic(':'), undefined],
    ['another scheme', 'Digest abc', undefined],
    ['Bearer without a token', 'Bearer ', undefined],
  ];
  for (const [what, header, token] of cases) it(what, () => assert.equal(tokenOf(header), token));
});
