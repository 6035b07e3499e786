import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidationError } from './errors.js';
import { checkVolumesAllowed, isUnder, normalizeHostPath, volumeRefusal } from './volumes.js';

describe('normalizeHostPath', () => {
  const cases: [string, string][] = [
    ['/tmp', '/tmp'], ['/tmp/', '/tmp'], ['//tmp//a', '/tmp/a'], ['/tmp/../etc', '/etc'], ['/tmp/./a/', '/tmp/a'],
    ['/..', '/'], ['/', '/'], ['//', '/'], ['/a/b/../../..', '/'],
  ];
  for (const [input, expected] of cases) it(`${input} → ${expected}`, () => assert.equal(normalizeHostPath(input), expected));
});

describe('isUnder', () => {
  const cases: [string, string, boolean][] = [
    ['/tmp', '/tmp', true], ['/tmp/a', '/tmp', true], ['/tmpx', '/tmp', false], ['/etc', '/tmp', false], ['/anything', '/', true],
  ];
  for (const [path, prefix, expected] of cases) it(`${path} under ${prefix}: ${expected}`, () => assert.equal(isUnder(path, prefix), expected));
});

describe('volumeRefusal', () => {
  const allowed = ['/tmp', '/var/tmp/tangerine'];
  const cases: [string, readonly string[], string | null][] = [
    ['/tmp/x', allowed, null],
    ['/tmp', allowed, null],
    ['/var/tmp/tangerine/data/', allowed, null],
    ['/tmp/../etc', allowed, '"/etc" is not under an allowed path (allowed: /tmp, /var/tmp/tangerine)'],
    ['/tmpfoo', allowed, '"/tmpfoo" is not under an allowed path (allowed: /tmp, /var/tmp/tangerine)'],
    ['/data', [], '"/data" is not under an allowed path (no host path is allowed here)'],
    ['/', ['/'], 'the host\'s root (/) is never mounted'],
    ['//', allowed, 'the host\'s root (/) is never mounted'],
    ['/tmp/..', allowed, 'the host\'s root (/) is never mounted'],
    ['/var/run/docker.sock', ['/'], '"/var/run/docker.sock" is or holds the Docker socket /var/run/docker.sock, which is never mounted'],
    ['/run', ['/'], '"/run" is or holds the Docker socket /run/docker.sock, which is never mounted'],
    ['/var//run/', ['/var'], '"/var/run" is or holds the Docker socket /var/run/docker.sock, which is never mounted'],
    ['/srv/data', ['/'], null],
    ['/proc', ['/'], '"/proc" is in /proc, which is never mounted (it reaches the host\'s root and devices)'],
    ['/proc/1/root', ['/'], '"/proc/1/root" is in /proc, which is never mounted (it reaches the host\'s root and devices)'],
    ['/tmp/../sys/fs', ['/'], '"/sys/fs" is in /sys, which is never mounted (it reaches the host\'s root and devices)'],
    ['/dev/sda', ['/'], '"/dev/sda" is in /dev, which is never mounted (it reaches the host\'s root and devices)'],
    ['/devices', ['/'], null],
  ];
  for (const [path, prefixes, expected] of cases) {
    it(`${path} with ${JSON.stringify(prefixes)}: ${expected ?? 'allowed'}`, () => assert.equal(volumeRefusal(path, prefixes), expected));
  }

  it('refuses the socket DOCKER_HOST names, when given', () => {
    assert.match(volumeRefusal('/srv/engine', ['/srv'], ['/srv/engine/docker.sock']) ?? '', /holds the Docker socket \/srv\/engine\/docker.sock/);
  });
});

describe('checkVolumesAllowed', () => {
  it('names volumes[i] and the rule', () => {
    assert.throws(() => checkVolumesAllowed(['/tmp/a:/a', '/:/host'], ['/tmp']), (err: unknown) => {
      assert.ok(isValidationError(err));
      assert.equal(err.field, 'volumes[1]');
      assert.equal(err.message, 'volumes[1]: the host\'s root (/) is never mounted (VOLUMES_ALLOWED)');
      return true;
    });
  });

  it('passes mounts under an allowed path', () => assert.doesNotThrow(() => checkVolumesAllowed(['/tmp/a:/a:ro'], ['/tmp'])));
});
