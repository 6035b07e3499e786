import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleError } from '@tangerine/runtime';
import { ownCgroups } from './cgroups.js';
import { DEFAULT_SANDBOX, sandboxHostConfig } from './docker-executor.js';
import { DEFAULT_CAPABILITIES, capabilityMask, parseCapabilities, resolveUser } from './sandbox.js';

describe('capabilities', () => {
  it('the default set is the CapEff mask 0x4fb (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, NET_BIND_SERVICE)', () => {
    assert.equal(capabilityMask(DEFAULT_CAPABILITIES), 0x4fbn);
  });

  const cases: [string, readonly string[] | string][] = [
    ['CHOWN,KILL', ['CHOWN', 'KILL']],
    ['cap_net_raw, chown ,', ['NET_RAW', 'CHOWN']],
    ['none', []],
    ['KILL,KILL', ['KILL']],
    ['SYS_FOO', 'each item must be a Linux capability such as CHOWN or NET_BIND_SERVICE, or the whole value "none" (got "SYS_FOO")'],
  ];
  for (const [text, expected] of cases) {
    it(`AGENT_CAPABILITIES=${text}`, () => {
      if (typeof expected === 'string') assert.throws(() => parseCapabilities()(text), (e: unknown) => e instanceof RuleError && e.message === expected);
      else assert.deepEqual(parseCapabilities()(text), expected);
    });
  }
});

describe('sandboxHostConfig: what every container gets', () => {
  it('is never privileged, gains no privileges, drops every capability but the list, and caps pids and logs', () => {
    assert.deepEqual(sandboxHostConfig(DEFAULT_SANDBOX), {
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      CapAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'],
      PidsLimit: 512,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1048576', 'max-file': '2' } },
    });
  });
});

describe('resolveUser', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nbuild:x:1000:1000::/home/build:/bin/sh\nwheelie:x:1001:0::/home/w:/bin/sh\n';
  const group = 'root:x:0:\ndocker:x:999:build\nnogroup:x:65534:\nbuild:x:1000:\nstaff:x:50:other,build\n';
  it('finds nobody by name, with its home and group', () => {
    assert.deepEqual(resolveUser('nobody', passwd, group), { name: 'nobody', uid: 65534, gid: 65534, groups: [65534], home: '/nonexistent' });
  });
  it('adds the groups /etc/group lists the user in', () => {
    assert.deepEqual(resolveUser('build', passwd, group).groups, [1000, 999, 50]);
  });
  it('takes a uid, known or not', () => {
    assert.equal(resolveUser('1000', passwd, group).name, 'build');
    assert.deepEqual(resolveUser('4242', passwd, group), { name: '4242', uid: 4242, gid: 4242, groups: [4242], home: '/' });
  });
  const refused: [string, RegExp][] = [
    ['root', /must name an unprivileged user, not root/],
    ['0', /must name an unprivileged user, not root/],
    ['ghost', /no user "ghost" in \/etc\/passwd/],
    ['wheelie', /is in the root group/],
  ];
  for (const [wanted, rule] of refused) it(`refuses ${wanted}`, () => assert.throws(() => resolveUser(wanted, passwd, group), rule));
});

describe('ownCgroups', () => {
  it('reads v1 and v2 lines of /proc/self/cgroup', () => {
    const own = ownCgroups('12:cpu,cpuacct:/a\n4:memory:/process_api/x\n0::/user.slice\n');
    assert.equal(own.get('cpu'), '/a');
    assert.equal(own.get('cpuacct'), '/a');
    assert.equal(own.get('memory'), '/process_api/x');
    assert.equal(own.get('unified'), '/user.slice');
  });
});
