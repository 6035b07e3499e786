import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Limits, Subjects } from '@tangerine/contracts';
import { mergeTemplated, parseCommand } from './commands.js';

const MAX_SPECS_PER_MESSAGE = Limits.specsPerMessage;

const enc = new TextEncoder();
const NOW = new Date('2026-11-22T12:00:00Z');
const parse = (subject: string, payload: unknown) =>
  parseCommand(subject, 42, enc.encode(typeof payload === 'string' ? payload : JSON.stringify(payload)), NOW);

describe('parseCommand', () => {
  it('reads one spec', () => {
    const [p] = parse(Subjects.submit.subject, { name: 'a', image: 'busybox' });
    assert.equal(p?.kind, 'submit');
    assert.equal(p?.key, '42');
    assert.equal(p?.kind === 'submit' && p.submission.spec.name, 'a');
  });

  it('reads a list of specs, each judged on its own, with a key per position', () => {
    const parsed = parse(Subjects.submit.subject, [{ name: 'a', image: 'busybox' }, { name: 'bad name', image: 'busybox' }, { name: 'c', executor: 'process', command: 'true' }]);
    assert.deepEqual(parsed.map((p) => [p.kind, p.key, p.seq]), [['submit', '42:0', 42], ['invalid', '42:1', 42], ['submit', '42:2', 42]]);
    const bad = parsed[1]!;
    assert.ok(bad.kind === 'invalid');
    assert.equal(bad.rejection.name, 'bad name');
    assert.equal(bad.rejection.field, 'name');
    assert.equal(bad.rejection.payload, '{"name":"bad name","image":"busybox"}', 'the payload is the spec at fault, not the whole list');
  });

  it('refuses a list longer than the limit, whole', () => {
    const list = Array.from({ length: MAX_SPECS_PER_MESSAGE + 1 }, (_, i) => ({ name: `t${i}`, image: 'busybox' }));
    const parsed = parse(Subjects.submit.subject, list);
    assert.equal(parsed.length, 1);
    assert.ok(parsed[0]!.kind === 'invalid');
    assert.equal(parsed[0]!.rejection.reason, `spec: a list may hold at most ${MAX_SPECS_PER_MESSAGE} specs (got ${MAX_SPECS_PER_MESSAGE + 1}); send several messages`);
  });

  it('an empty list is nothing to do', () => assert.deepEqual(parse(Subjects.submit.subject, []), []));

  it('a list is not a cancel', () => {
    const [p] = parse(Subjects.cancel.subject, [{ name: 'a' }]);
    assert.ok(p?.kind === 'invalid');
    assert.equal(p.rejection.field, 'name');
  });

  it('malformed JSON is one rejection', () => {
    const [p] = parse(Subjects.submit.subject, '[{"name": ');
    assert.ok(p?.kind === 'invalid');
    assert.equal(p.rejection.code, 'invalid_json');
  });
});

describe('parseCommand: what a stranger may send', () => {
  const deepText = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
  const cases: [string, string, string, string][] = [
    ['the env of issue #10, 5,000 lists deep', `{"name":"a","image":"busybox","env":${deepText(5000)}}`, 'spec', 'spec: must not nest deeper than 16 levels'],
    ['a list of specs, one of them deep', `[{"name":"a","image":"busybox","env":${deepText(40)}}]`, 'spec', 'spec: must not nest deeper than 16 levels'],
    ['500,000 levels of nothing', deepText(500_000), 'spec', 'spec: must not nest deeper than 16 levels'],
    ['not JSON', '{"name": "a"', 'payload', 'payload: is not valid JSON ("{\\"name\\": \\"a\\"")'],
    ['a cancel with an unknown field', '{"name": "a", "force": true}', 'force', 'force: unknown field'],
    ['a cancel of a name no task can have', '{"name": "bad name"}', 'name', 'name: must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ (got "bad name")'],
  ];
  for (const [label, text, field, reason] of cases) {
    it(`${label}: one rejection naming ${field}`, () => {
      const subject = label.startsWith('a cancel') ? Subjects.cancel.subject : Subjects.submit.subject;
      const parsed = parseCommand(subject, 7, enc.encode(text), NOW);
      assert.equal(parsed.length, 1);
      const p = parsed[0]!;
      assert.ok(p.kind === 'invalid', JSON.stringify(p).slice(0, 300));
      assert.equal(p.rejection.field, field);
      assert.equal(p.rejection.reason, reason);
      assert.equal(p.rejection.seq, 7);
      assert.ok(p.rejection.payload.length <= 512);
    });
  }

  it('a rejection of a spec of a list names its index', () => {
    const parsed = parse(Subjects.submit.subject, [{ name: 'ok', image: 'busybox' }, { name: 'b', image: 5 }]);
    const bad = parsed[1]!;
    assert.ok(bad.kind === 'invalid');
    assert.deepEqual([bad.rejection.seq, bad.rejection.index, bad.rejection.field], [42, 1, 'image']);
  });
});

describe('parseCommand: a rejection shows no secret', () => {
  const SECRET = 'hunter2-hunter2';
  const cases: [string, string, string][] = [
    ['a spec that breaks a rule', JSON.stringify({ name: 'a', image: 5, env: { MODE: SECRET }, secret_env: { DB_PASSWORD: SECRET } }), 'image'],
    ['a secret also in env', JSON.stringify({ name: 'a', image: 'busybox', env: { K: SECRET }, secret_env: { K: SECRET } }), 'secret_env.K'],
    ['a secret_env item without its name', JSON.stringify({ name: 'a', image: 'busybox', secret_env: [SECRET] }), 'secret_env[0]'],
    ['a spec of a list', JSON.stringify([{ name: 'a', image: 'busybox', secret_env: { K: SECRET }, cpu: -1 }]), 'cpu'],
    ['text that is not JSON', `{"name": "a", "secret_env": {"K": "${SECRET}"`, 'payload'],
  ];
  for (const [label, text, field] of cases) {
    it(`${label}: neither the reason nor the payload holds the value`, () => {
      const [p] = parseCommand(Subjects.submit.subject, 9, enc.encode(text), NOW);
      assert.ok(p?.kind === 'invalid');
      assert.equal(p.rejection.field, field);
      assert.ok(!JSON.stringify(p.rejection).includes(SECRET), JSON.stringify(p.rejection));
    });
  }

  it('the payload keeps the names, with the values hidden', () => {
    const [p] = parse(Subjects.submit.subject, { name: 'a', image: 5, env: { MODE: 'prod' }, secret_env: { DB_PASSWORD: SECRET } });
    assert.ok(p?.kind === 'invalid');
    assert.deepEqual(JSON.parse(p.rejection.payload), { name: 'a', image: 5, env: { MODE: '***' }, secret_env: { DB_PASSWORD: '***' } });
  });
});

describe('parseCommand: bind mounts only under VOLUMES_ALLOWED', () => {
  const submit = (volumes: string[], volumesAllowed?: readonly string[]) =>
    parseCommand(Subjects.submit.subject, 7, enc.encode(JSON.stringify({ name: 'm', image: 'busybox', volumes })), NOW, volumesAllowed ? { volumesAllowed } : {});
  const cases: [string, string[], readonly string[] | undefined, string | null][] = [
    ['the host root, whatever is allowed', ['/:/host'], ['/'], 'volumes[0]: the host\'s root (/) is never mounted (VOLUMES_ALLOWED)'],
    ['the Docker socket', ['/var/run/docker.sock:/s'], ['/var'], 'volumes[0]: "/var/run/docker.sock" is or holds the Docker socket /var/run/docker.sock, which is never mounted (VOLUMES_ALLOWED)'],
    ['a path that climbs out of an allowed one', ['/tmp/a:/a', '/tmp/../etc:/etc'], ['/tmp'], 'volumes[1]: "/etc" is not under an allowed path (allowed: /tmp) (VOLUMES_ALLOWED)'],
    ['any mount when nothing is allowed (the default)', ['/tmp/a:/a'], undefined, 'volumes[0]: "/tmp/a" is not under an allowed path (no host path is allowed here) (VOLUMES_ALLOWED)'],
    ['a mount under an allowed path', ['/tmp/a/:/a:ro'], ['/tmp'], null],
  ];
  for (const [what, volumes, allowed, reason] of cases) {
    it(`${reason === null ? 'accepts' : 'refuses'} ${what}`, () => {
      const [p] = submit(volumes, allowed);
      if (reason === null) {
        assert.equal(p?.kind, 'submit');
        return;
      }
      assert.ok(p?.kind === 'invalid');
      assert.equal(p.rejection.code, 'invalid_spec');
      assert.equal(p.rejection.field, reason.slice(0, reason.indexOf(':')));
      assert.equal(p.rejection.reason, reason);
    });
  }
});

describe('parseCommand and mergeTemplated: templates', () => {
  const put = (payload: unknown, volumesAllowed?: readonly string[]) =>
    parseCommand(Subjects.templatePut.subject, 5, enc.encode(JSON.stringify(payload)), NOW, volumesAllowed ? { volumesAllowed } : {});

  it('reads a template definition', () => {
    const [p] = put({ name: 'py', spec: { image: 'python', env: { A: 'b' } } });
    assert.ok(p?.kind === 'put');
    assert.deepEqual([p.template.name, p.template.spec], ['py', { image: 'python', env: { A: 'b' } }]);
  });

  const refusedPuts: [string, unknown, string, readonly string[] | undefined][] = [
    ['a template without a spec', { name: 'py' }, 'spec', undefined],
    ['a template that names a task', { name: 'py', spec: { name: 'x' } }, 'spec.name', undefined],
    ['a list of templates', [{ name: 'py', spec: {} }], 'template', undefined],
    ['a template that mounts what VOLUMES_ALLOWED does not allow', { name: 'py', spec: { volumes: ['/etc:/etc'] } }, 'spec.volumes[0]', ['/tmp']],
  ];
  for (const [what, payload, field, allowed] of refusedPuts) {
    it(`refuses ${what}, naming ${field}`, () => {
      const [p] = put(payload, allowed);
      assert.ok(p?.kind === 'invalid', JSON.stringify(p));
      assert.deepEqual([p.rejection.code, p.rejection.field, p.rejection.seq], ['invalid_template', field, 5]);
      assert.ok(p.rejection.reason.startsWith(`${field}: `), p.rejection.reason);
    });
  }

  it('a refused template shows neither its secret values nor its env values', () => {
    const [p] = put({ name: 'py', spec: { image: 5, env: { MODE: 'hunter2-env' }, secret_env: { TOKEN: 'hunter2-secret' } } });
    assert.ok(p?.kind === 'invalid');
    assert.equal(p.rejection.field, 'spec.image');
    assert.ok(!JSON.stringify(p.rejection).includes('hunter2'), JSON.stringify(p.rejection));
    assert.deepEqual(JSON.parse(p.rejection.payload).spec.secret_env, { TOKEN: '***' });
  });

  const templated = (spec: unknown) => {
    const [p] = parse(Subjects.submit.subject, spec);
    assert.ok(p?.kind === 'templated', JSON.stringify(p));
    return p;
  };

  it('a spec that names a template waits for it, checked as far as it can be', () => {
    const p = templated({ name: 'j', template: 'py:2', env: { B: 'c' } });
    assert.deepEqual([p.name, p.ref], ['j', { name: 'py', version: 2 }]);
    const [bad] = parse(Subjects.submit.subject, { name: 'j', template: 'py:two' });
    assert.ok(bad?.kind === 'invalid');
    assert.deepEqual([bad.rejection.code, bad.rejection.field], ['invalid_spec', 'template']);
  });

  it('merges the template found, recording its version', () => {
    const p = templated({ name: 'j', template: 'py', env: { B: 'c' } });
    const merged = mergeTemplated(p, { found: { name: 'py', version: 3, spec: { image: 'python', env: { A: 'b' } } } }, NOW);
    assert.ok(merged.kind === 'submit');
    assert.deepEqual([merged.submission.spec.image, merged.submission.spec.env, merged.submission.template], ['python', { A: 'b', B: 'c' }, { name: 'py', version: 3 }]);
  });

  const refusedMerges: [string, unknown, Parameters<typeof mergeTemplated>[1], string, string, string][] = [
    ['an unknown template', { name: 'j', template: 'nope' }, { found: null, latest: null }, 'template_not_found', 'template', 'template: no template named "nope"'],
    ['an unknown version', { name: 'j', template: 'py:7' }, { found: null, latest: 2 }, 'template_not_found', 'template', 'template: template "py" has no version 7 (its latest is 2)'],
    ['a merged spec that breaks a rule', { name: 'j', template: 'py', cpu: -1 }, { found: { name: 'py', version: 1, spec: { image: 'python' } } }, 'invalid_spec', 'cpu', 'cpu: '],
    ['a merged spec with a mount not allowed', { name: 'j', template: 'py', volumes: ['/etc:/etc'] }, { found: { name: 'py', version: 1, spec: { image: 'python' } } }, 'invalid_spec', 'volumes[0]', 'volumes[0]: '],
  ];
  for (const [what, spec, resolution, code, field, reason] of refusedMerges) {
    it(`refuses ${what}, naming ${field}`, () => {
      const merged = mergeTemplated(templated(spec), resolution, NOW);
      assert.ok(merged.kind === 'invalid', JSON.stringify(merged));
      assert.deepEqual([merged.rejection.name, merged.rejection.code, merged.rejection.field, merged.rejection.seq], ['j', code, field, 42]);
      assert.ok(merged.rejection.reason.startsWith(reason), merged.rejection.reason);
    });
  }

  it('a rejection of a merged spec shows the payload as submitted, never the template\'s secret', () => {
    const merged = mergeTemplated(templated({ name: 'j', template: 'py', cpu: -1 }), { found: { name: 'py', version: 1, spec: { image: 'python', secret_env: { T: 'hunter2-secret' } } } }, NOW);
    assert.ok(merged.kind === 'invalid');
    assert.ok(!JSON.stringify(merged.rejection).includes('hunter2'), JSON.stringify(merged.rejection));
    assert.deepEqual(JSON.parse(merged.rejection.payload), { name: 'j', template: 'py', cpu: -1 });
  });
});
