import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidationError } from './errors.js';
import { Limits } from './limits.js';
import { SECRET_SHOWN, parseTaskSpec, parseTemplateRef } from './spec.js';
import { TemplateStored } from './templates.js';
import { applyTemplate, parseTemplateDefinition, precheckSpec } from './templates.js';
import { compile } from './validate.js';

type Spec = Record<string, unknown>;

describe('applyTemplate: the merge rule', () => {
  const py: Spec = {
    image: 'python:3.12', command: ['python', 'main.py'], env: { LOG: 'info', REGION: 'eu' }, secret_env: { TOKEN: 't0' },
    constraints: { zone: 'a', gpu: 'no' }, max_failures: 5, volumes: ['/data:/data:ro'], cron: '0 * * * *',
  };
  const cases: [string, Spec, Spec, Spec][] = [
    ['the task gives only its name: the template whole', py, { name: 'j' }, { ...py, name: 'j' }],
    ['env merged key by key, the task winning', py, { name: 'j', env: { LOG: 'debug', EXTRA: '1' } },
      { ...py, name: 'j', env: { LOG: 'debug', REGION: 'eu', EXTRA: '1' } }],
    ['secret_env merged key by key', py, { name: 'j', secret_env: { OTHER: 'o' } }, { ...py, name: 'j', secret_env: { TOKEN: 't0', OTHER: 'o' } }],
    ['constraints merged key by key', py, { name: 'j', constraints: { gpu: 'yes' } }, { ...py, name: 'j', constraints: { zone: 'a', gpu: 'yes' } }],
    ['a list is replaced, not appended to', py, { name: 'j', command: ['python', 'other.py'], volumes: [] },
      { ...py, name: 'j', command: ['python', 'other.py'], volumes: [] }],
    ['a scalar is replaced', py, { name: 'j', max_failures: 1 }, { ...py, name: 'j', max_failures: 1 }],
    ['null removes a field of the template (its default then applies)', py, { name: 'j', cron: null }, { ...py, name: 'j', cron: null }],
    ['a key set to null is removed from the merged map', py, { name: 'j', env: { REGION: null } }, { ...py, name: 'j', env: { LOG: 'info' } }],
    ['a map set to null removes the template\'s whole map', py, { name: 'j', constraints: null }, (() => { const { constraints: _c, ...rest } = py; return { ...rest, name: 'j' }; })()],
    ['the task\'s env in the job-scheduler form', py, { name: 'j', env: ['LOG=warn'] }, { ...py, name: 'j', env: { LOG: 'warn', REGION: 'eu' } }],
    ['the task\'s env as Tangerine\'s environment', py, { name: 'j', environment: [['A', 'b']] }, { ...py, name: 'j', env: { LOG: 'info', REGION: 'eu', A: 'b' } }],
    ['the template\'s environment, the task\'s env', { image: 'x', environment: [['A', '1'], ['B', '2']] }, { name: 'j', env: { B: 3 } },
      { image: 'x', name: 'j', env: { A: '1', B: '3' } }],
    ['the template\'s environment kept when the task gives none', { image: 'x', environment: [['A', '1']] }, { name: 'j' },
      { image: 'x', environment: [['A', '1']], name: 'j' }],
    ['imageuuid replaces the template\'s image', py, { name: 'j', imageuuid: 'docker:ubuntu:16.04' },
      (() => { const { image: _i, ...rest } = py; return { ...rest, name: 'j', imageuuid: 'docker:ubuntu:16.04' }; })()],
    ['datavolumes replace the template\'s volumes', py, { name: 'j', datavolumes: ['/tmp:/tmp'] },
      (() => { const { volumes: _v, ...rest } = py; return { ...rest, name: 'j', datavolumes: ['/tmp:/tmp'] }; })()],
    ['the task\'s template field is not in the result', py, { name: 'j', template: 'py:2' }, { ...py, name: 'j' }],
    ['a malformed env of the task replaces the template\'s, for parseTaskSpec to name', py, { name: 'j', env: 5 }, { ...py, name: 'j', env: 5 }],
  ];
  for (const [what, template, spec, want] of cases) {
    it(what, () => {
      const before = JSON.stringify([template, spec]);
      assert.deepEqual(applyTemplate(template, spec), want);
      assert.equal(JSON.stringify([template, spec]), before, 'the inputs are unchanged');
    });
  }

  it('a merged spec is judged by parseTaskSpec as any other', () => {
    const merged = parseTaskSpec(applyTemplate(py, { name: 'j', env: { LOG: 'debug' }, cron: null }));
    assert.deepEqual([merged.image, merged.env, merged.secret_env, merged.cron, merged.timezone], ['python:3.12', { LOG: 'debug', REGION: 'eu' }, { TOKEN: 't0' }, null, null]);
    assert.throws(() => parseTaskSpec(applyTemplate(py, { env: { A: 'b' } })), (e: unknown) => isValidationError(e) && e.field === 'name');
    assert.throws(() => parseTaskSpec(applyTemplate(py, { name: 'j', env: 5 })), (e: unknown) => isValidationError(e) && e.field === 'env');
  });
});

describe('parseTemplateRef', () => {
  const cases: [unknown, { name: string; version: number | null } | null][] = [
    ['py', { name: 'py', version: null }],
    ['py:3', { name: 'py', version: 3 }],
    ['a_b-C9:2147483647', { name: 'a_b-C9', version: 2147483647 }],
    ['py:0', null],
    ['py:03', null],
    ['py:2147483648', null],
    ['py:', null],
    ['py:latest', null],
    ['bad name', null],
    ['', null],
    [3, null],
    [null, null],
  ];
  for (const [value, want] of cases) {
    it(`${want ? 'reads' : 'refuses'} ${JSON.stringify(value)}`, () => {
      if (want) return assert.deepEqual(parseTemplateRef(value), want);
      assert.throws(() => parseTemplateRef(value), (e: unknown) => isValidationError(e) && e.code === 'invalid_spec' && e.field === 'template'
        && e.message.startsWith('template: must be "NAME" or "NAME:VERSION"'));
    });
  }
  it('parseTaskSpec checks the form of a template it is given', () => {
    assert.throws(() => parseTaskSpec({ name: 'j', image: 'x', template: 'py:0' }), (e: unknown) => isValidationError(e) && e.field === 'template');
    assert.equal(parseTaskSpec({ name: 'j', image: 'x', template: 'py:1' }).name, 'j');
  });
});

describe('parseTemplateDefinition', () => {
  it('keeps the spec as given, with secret values apart', () => {
    const t = parseTemplateDefinition({ kind: 'template', name: 'py', description: 'Python jobs', spec: { image: 'python', environment: [['A', 'b']], secret_env: ['TOKEN=t0'] } });
    assert.deepEqual(t, {
      name: 'py', description: 'Python jobs', spec: { image: 'python', environment: [['A', 'b']], secret_env: { TOKEN: SECRET_SHOWN } }, secrets: { TOKEN: 't0' },
    });
  });

  it('takes a partial spec: no image, a process executor without command, a zone without cron', () => {
    for (const spec of [{ env: { A: 'b' } }, { executor: 'process' }, { timezone: 'Europe/Paris' }, {}]) {
      assert.deepEqual(parseTemplateDefinition({ name: 't', spec }).spec, spec);
    }
  });

  const refused: [string, unknown, string, string][] = [
    ['not an object', [1], 'template', 'template: must be a JSON object {"name", "spec", "description"?} (got [1])'],
    ['no name', { spec: {} }, 'name', 'name: is required'],
    ['a bad name', { name: 'a.b', spec: {} }, 'name', 'name: must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "a.b")'],
    ['no spec', { name: 't' }, 'spec', 'spec: is required (the fields a task gets unless it gives its own)'],
    ['a spec that is a list', { name: 't', spec: [] }, 'spec', 'spec: must be an object (got [])'],
    ['an unknown field', { name: 't', spec: {}, version: 2 }, 'version', 'version: unknown field (allowed: name, description, spec)'],
    ['another kind', { kind: 'task', name: 't', spec: {} }, 'kind', 'kind: must be "template" when given (got "task")'],
    ['a description too long', { name: 't', spec: {}, description: 'x'.repeat(Limits.templateDescriptionChars + 1) }, 'description', `description: must be at most ${Limits.templateDescriptionChars} characters`],
    ['a name in the spec', { name: 't', spec: { name: 'x' } }, 'spec.name', 'spec.name: a template gives no name: each task gives its own'],
    ['a template in the spec', { name: 't', spec: { template: 'u' } }, 'spec.template', 'spec.template: a template cannot name another template'],
    ['an unknown spec field', { name: 't', spec: { imgae: 'x' } }, 'spec.imgae', 'spec.imgae: unknown field'],
    ['a bad value', { name: 't', spec: { image: 5 } }, 'spec.image', 'spec.image: must be a non-empty string, or null (got 5)'],
    ['a bad env item', { name: 't', spec: { env: ['NOEQUALS'] } }, 'spec.env[0]', 'spec.env[0]: must be "KEY=VALUE" (got "NOEQUALS")'],
    ['a bad cron', { name: 't', spec: { cron: 'every day' } }, 'spec.cron', 'spec.cron'],
    ['a spec too large', { name: 't', spec: { env: { A: 'x'.repeat(Limits.specBytes) } } }, 'spec', `spec: must be at most ${Limits.specBytes} bytes as JSON`],
    ['a spec too deep', { name: 't', spec: { env: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) } }, 'spec', 'spec: must not nest deeper than 16 levels'],
  ];
  for (const [what, input, field, message] of refused) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(() => parseTemplateDefinition(input), (e: unknown) => {
        assert.ok(isValidationError(e), String(e));
        assert.deepEqual([e.code, e.field], ['invalid_template', field]);
        assert.ok(e.message.startsWith(message), e.message);
        return true;
      });
    });
  }
  it('never quotes a secret value in its refusal', () => {
    assert.throws(() => parseTemplateDefinition({ name: 't', spec: { secret_env: ['hunter2-secret'] } }), (e: unknown) =>
      isValidationError(e) && e.field === 'spec.secret_env[0]' && !e.message.includes('hunter2'));
  });
});

describe('precheckSpec', () => {
  it('gives parseTaskSpec\'s verdict for a spec without a template', () => {
    assert.deepEqual(precheckSpec({ name: 'a', image: 'x' }), { spec: parseTaskSpec({ name: 'a', image: 'x' }), template: null });
    assert.throws(() => precheckSpec({ name: 'a' }), (e: unknown) => isValidationError(e) && e.field === 'image');
  });
  it('judges what it can of a spec that names a template', () => {
    assert.deepEqual(precheckSpec({ name: 'a', template: 'py:2', env: { A: 'b' } }), { spec: null, template: { name: 'py', version: 2 } });
    const cases: [unknown, string][] = [
      [{ template: 'py' }, 'name'],
      [{ name: 'a b', template: 'py' }, 'name'],
      [{ name: 'a', template: 'py:x' }, 'template'],
      [{ name: 'a', template: 'py', imgae: 'x' }, 'imgae'],
      [{ name: 'a', template: 'py', env: { A: 'x'.repeat(Limits.specBytes) } }, 'spec'],
    ];
    for (const [input, field] of cases) {
      assert.throws(() => precheckSpec(input), (e: unknown) => isValidationError(e) && e.code === 'invalid_spec' && e.field === field, JSON.stringify(input).slice(0, 80));
    }
  });
});

describe('TemplateStored', () => {
  it('is what templates.events.<name> carries', () => {
    const v = compile(TemplateStored);
    assert.ok(v.check({ name: 'py', version: 1, created: true, seq: 4, at: new Date().toISOString() }));
    assert.ok(!v.check({ name: 'py', version: 0, created: true, seq: 4, at: '' }));
  });
});
