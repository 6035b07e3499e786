import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SECRET_SHOWN, hideSecretValues, parseTaskSpec, parseVolume } from './spec.js';
import { isValidationError } from './errors.js';

const NAME_RULE = '[A-Za-z0-9][A-Za-z0-9_-]{0,99}';
const ALLOWED =
  'name, executor, image, imageuuid, command, entrypoint, env, environment, secret_env, volumes, datavolumes, dependencies, ' +
  'restartable, recoverable_exitcodes, max_failures, retry_delay, retry_max_delay, constraints, cpu, memory, cron, timezone, concurrency, ' +
  'starting_deadline, schedule_at, timeout, template, files, notify, instance';
const VOLUME_RULE = 'must be "/host/path:/container/path[:ro|rw]"';

/** A minimal valid docker spec plus the given fields. */
function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'job', image: 'alpine', ...extra };
}

function assertInvalid(input: unknown, field: string, message: string): void {
  assert.throws(
    () => parseTaskSpec(input),
    (err: unknown) => {
      assert.ok(isValidationError(err), `expected a ValidationError, got ${String(err)}`);
      assert.equal(err.code, 'invalid_spec');
      assert.equal(err.field, field);
      assert.equal(err.message, message);
      assert.equal(err.retryable, false);
      return true;
    },
  );
}

describe('parseTaskSpec: defaults', () => {
  it('fills every optional field of a minimal docker spec', () => {
    assert.deepEqual(parseTaskSpec({ name: 'job', image: 'alpine' }), {
      name: 'job',
      executor: 'docker',
      image: 'alpine',
      command: [],
      entrypoint: null,
      env: {},
      secret_env: {},
      volumes: [],
      dependencies: [],
      restartable: true,
      recoverable_exitcodes: [],
      max_failures: 3,
      retry_delay: 1,
      retry_max_delay: 300,
      constraints: {},
      cpu: null,
      memory: null,
      cron: null,
      timezone: null,
      concurrency: 'forbid',
      starting_deadline: 300,
      schedule_at: null,
      timeout: null,
    });
  });

  it('keeps every field that is given', () => {
    const full = {
      name: 'Build_1-x',
      executor: 'docker',
      image: 'registry.local/app:1.2',
      command: ['make', 'all'],
      entrypoint: ['/bin/sh'],
      env: { PATH: '/bin', 'a.b-c': 'x' },
      secret_env: { DB_PASSWORD: 'hunter2' },
      volumes: ['/data:/data', '/src:/src:ro', '/out:/out:rw'],
      dependencies: ['fetch', 'configure'],
      restartable: false,
      recoverable_exitcodes: [1, 255],
      max_failures: 1000,
      retry_delay: 30,
      retry_max_delay: 3600,
      constraints: { zone: 'eu-1', 'k8s.io/arch': 'amd64' },
      cpu: 0.5,
      memory: 4,
      cron: '*/5 9-17 * * MON-FRI',
      timezone: 'Europe/Berlin',
      concurrency: 'allow',
      starting_deadline: 60,
      schedule_at: '2026-11-22T12:00:00.000Z',
      timeout: 1.5,
    };
    assert.deepEqual(parseTaskSpec(structuredClone(full)), full);
  });

  const nullDefaults: [string, unknown][] = [
    ['executor', 'docker'],
    ['command', []],
    ['entrypoint', null],
    ['env', {}],
    ['secret_env', {}],
    ['cpu', null],
    ['memory', null],
  ];
  for (const [field, expected] of nullDefaults) {
    it(`treats ${field}: null as absent`, () => {
      const spec = parseTaskSpec(base({ [field]: null })) as unknown as Record<string, unknown>;
      assert.deepEqual(spec[field], expected);
    });
  }
});

describe('parseTaskSpec: payloads that are not objects', () => {
  const cases: [unknown, string][] = [
    [[], 'spec: must be a JSON object (got [])'],
    [[{ name: 'a' }], 'spec: must be a JSON object (got [{"name":"a"}])'],
    [null, 'spec: must be a JSON object (got null)'],
    [42, 'spec: must be a JSON object (got 42)'],
    ['job', 'spec: must be a JSON object (got "job")'],
    [true, 'spec: must be a JSON object (got true)'],
    [undefined, 'spec: must be a JSON object (got undefined)'],
  ];
  for (const [input, message] of cases) {
    it(`rejects ${JSON.stringify(input) ?? 'undefined'}`, () => assertInvalid(input, 'spec', message));
  }
});

describe('parseTaskSpec: name', () => {
  it('requires a name', () => assertInvalid({ image: 'alpine' }, 'name', 'name: is required'));

  const bad: [unknown, string][] = [
    ['bad name!', '"bad name!"'],
    ['', '""'],
    ['-leading-dash', '"-leading-dash"'],
    ['_leading', '"_leading"'],
    ['dot.ted', '"dot.ted"'],
    ['tasks.events', '"tasks.events"'],
    ['wild*', '"wild*"'],
    [42, '42'],
    [null, 'null'],
    [['a'], '["a"]'],
  ];
  for (const [name, shown] of bad) {
    it(`rejects name ${JSON.stringify(name)}`, () =>
      assertInvalid(base({ name }), 'name', `name: must match ${NAME_RULE} (got ${shown})`));
  }

  it('rejects a 101-character name, quoting it shortened to 80 characters', () => {
    const name = 'a'.repeat(101);
    assertInvalid(base({ name }), 'name', `name: must match ${NAME_RULE} (got "${'a'.repeat(78)}…)`);
  });

  const good = ['a', 'A', '0', 'job_1-x', '9-lives', 'a'.repeat(100), `Z${'_-'.repeat(49)}9`];
  for (const name of good) {
    it(`accepts name ${name.length > 20 ? `of ${name.length} characters` : JSON.stringify(name)}`, () => {
      assert.equal(parseTaskSpec(base({ name })).name, name);
    });
  }
});

describe('parseTaskSpec: unknown fields', () => {
  const cases: [Record<string, unknown>, string][] = [
    [base({ cmd: 'echo' }), 'cmd'],
    [base({ Name: 'x' }), 'Name'],
    [base({ retries: 3 }), 'retries'],
    [{ foo: 1 }, 'foo'], // checked before the name is required
  ];
  for (const [input, field] of cases) {
    it(`rejects ${field}`, () => assertInvalid(input, field, `${field}: unknown field (allowed: ${ALLOWED})`));
  }
});

describe('parseTaskSpec: image and imageuuid', () => {
  it('requires an image for the docker executor', () =>
    assertInvalid(
      { name: 'job' },
      'image',
      'image: is required (or imageuuid "docker:IMAGE"; only the process executor runs without one)',
    ));

  it('requires an image when executor is given as docker', () =>
    assertInvalid(
      { name: 'job', executor: 'docker', image: null },
      'image',
      'image: is required (or imageuuid "docker:IMAGE"; only the process executor runs without one)',
    ));

  const uuids: [string, string][] = [
    ['docker:alpine', 'alpine'],
    ['docker:alpine:3.19', 'alpine:3.19'],
    ['docker:registry.local:5000/app@sha256:abc', 'registry.local:5000/app@sha256:abc'],
  ];
  for (const [imageuuid, image] of uuids) {
    it(`maps imageuuid ${imageuuid} to image ${image}`, () => {
      const spec = parseTaskSpec({ name: 'job', imageuuid });
      assert.equal(spec.image, image);
      assert.equal('imageuuid' in spec, false);
    });
  }

  const badUuids: [unknown, string][] = [
    ['alpine', '"alpine"'],
    ['docker:', '"docker:"'],
    ['Docker:alpine', '"Docker:alpine"'],
    ['podman:alpine', '"podman:alpine"'],
    [5, '5'],
    [null, 'null'],
  ];
  for (const [imageuuid, shown] of badUuids) {
    it(`rejects imageuuid ${JSON.stringify(imageuuid)}`, () =>
      assertInvalid({ name: 'job', imageuuid }, 'imageuuid', `imageuuid: must be "docker:IMAGE" (got ${shown})`));
  }

  it('rejects image and imageuuid together', () =>
    assertInvalid(
      { name: 'job', image: 'alpine', imageuuid: 'docker:alpine' },
      'imageuuid',
      'imageuuid: conflicts with image: give one of them',
    ));

  it('rejects an empty image', () =>
    assertInvalid(base({ image: '' }), 'image', 'image: must be a non-empty string, or null (got "")'));

  it('rejects an image of 513 characters and accepts 512', () => {
    assert.equal(parseTaskSpec(base({ image: 'i'.repeat(512) })).image, 'i'.repeat(512));
    assert.throws(() => parseTaskSpec(base({ image: 'i'.repeat(513) })), { code: 'invalid_spec', field: 'image' });
  });
});

describe('parseTaskSpec: executor and command', () => {
  it('runs the process executor without an image', () => {
    const spec = parseTaskSpec({ name: 'job', executor: 'process', command: ['true'] });
    assert.equal(spec.executor, 'process');
    assert.equal(spec.image, null);
    assert.deepEqual(spec.command, ['true']);
  });

  it('keeps an image given to the process executor', () => {
    assert.equal(parseTaskSpec({ name: 'job', executor: 'process', image: 'alpine', command: ['true'] }).image, 'alpine');
  });

  const noCommand: [string, Record<string, unknown>][] = [
    ['no command', { name: 'job', executor: 'process' }],
    ['an empty command list', { name: 'job', executor: 'process', command: [] }],
    ['a null command', { name: 'job', executor: 'process', command: null }],
  ];
  for (const [label, input] of noCommand) {
    it(`rejects the process executor with ${label}`, () =>
      assertInvalid(input, 'command', 'command: is required for the process executor'));
  }

  it('lets a docker task run without a command (the image CMD)', () => {
    assert.deepEqual(parseTaskSpec(base()).command, []);
  });

  it('rejects an unknown executor', () =>
    assertInvalid(base({ executor: 'podman' }), 'executor', 'executor: must be one of "docker" or "process" (got "podman")'));

  const argv: [string, unknown, unknown][] = [
    ['a string command runs under sh -c', { command: 'echo hi && exit 3' }, ['sh', '-c', 'echo hi && exit 3']],
    ['a list command is kept as is', { command: ['echo', 'a b'] }, ['echo', 'a b']],
    ['an empty string command is still a shell command', { command: '' }, ['sh', '-c', '']],
  ];
  for (const [label, extra, expected] of argv) {
    it(label, () => assert.deepEqual(parseTaskSpec(base(extra as Record<string, unknown>)).command, expected));
  }

  it('a string command makes the process executor valid', () => {
    assert.deepEqual(parseTaskSpec({ name: 'job', executor: 'process', command: 'date' }).command, ['sh', '-c', 'date']);
  });

  const entrypoints: [unknown, unknown][] = [
    ['/entry.sh', ['/entry.sh']],
    [['/bin/sh', '-e'], ['/bin/sh', '-e']],
    [[], []],
  ];
  for (const [entrypoint, expected] of entrypoints) {
    it(`entrypoint ${JSON.stringify(entrypoint)} becomes ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseTaskSpec(base({ entrypoint })).entrypoint, expected);
    });
  }

  it('rejects a command item that is not a string', () =>
    assertInvalid(base({ command: ['echo', 1] }), 'command[1]', 'command[1]: must be a string (got 1)'));
});

describe('parseTaskSpec: environment', () => {
  const forms: [string, Record<string, unknown>, Record<string, string>][] = [
    ['env object', { env: { A: '1', B: 'two' } }, { A: '1', B: 'two' }],
    ['environment pairs', { environment: [['K', 'V'], ['OTHER', 'x=y']] }, { K: 'V', OTHER: 'x=y' }],
    ['job-scheduler env strings', { env: ['K=V', 'EMPTY=', 'EQ=a=b'] }, { K: 'V', EMPTY: '', EQ: 'a=b' }],
    ['environment strings', { environment: ['K=V'] }, { K: 'V' }],
    ['env pairs', { env: [['K', 'V']] }, { K: 'V' }],
    ['mixed list', { env: ['A=1', ['B', '2']] }, { A: '1', B: '2' }],
    ['later keys win', { env: ['A=1', 'A=2'] }, { A: '2' }],
    ['numbers and booleans become strings', { env: { Frogs: 5, Pi: 3.5, Neg: -1, On: true, Off: false } },
      { Frogs: '5', Pi: '3.5', Neg: '-1', On: 'true', Off: 'false' }],
    ['environment object', { environment: { K: 'V' } }, { K: 'V' }],
    ['empty list', { env: [] }, {}],
    ['environment null', { environment: null }, {}],
  ];
  for (const [label, extra, expected] of forms) {
    it(`accepts ${label}`, () => assert.deepEqual(parseTaskSpec(base(extra)).env, expected));
  }

  const bad: [Record<string, unknown>, string, string][] = [
    [{ env: ['NOEQUALS'] }, 'env[0]', 'env[0]: must be "KEY=VALUE" (got "NOEQUALS")'],
    [{ env: ['A=1', '=V'] }, 'env[1]', 'env[1]: must be "KEY=VALUE" (got "=V")'],
    [{ environment: ['bad'] }, 'environment[0]', 'environment[0]: must be "KEY=VALUE" (got "bad")'],
    [{ environment: [['K']] }, 'environment[0]', 'environment[0]: must be "KEY=VALUE" or ["KEY", "VALUE"] (got ["K"])'],
    [{ environment: [['K', 'V', 'W']] }, 'environment[0]',
      'environment[0]: must be "KEY=VALUE" or ["KEY", "VALUE"] (got ["K","V","W"])'],
    [{ environment: [['K', 1]] }, 'environment[0]', 'environment[0]: must be "KEY=VALUE" or ["KEY", "VALUE"] (got ["K",1])'],
    [{ env: [5] }, 'env[0]', 'env[0]: must be "KEY=VALUE" or ["KEY", "VALUE"] (got 5)'],
    [{ env: [null] }, 'env[0]', 'env[0]: must be "KEY=VALUE" or ["KEY", "VALUE"] (got null)'],
    [{ env: { K: { nested: 1 } } }, 'env.K', 'env.K: must be a string (got {"nested":1})'],
    [{ env: { K: null } }, 'env.K', 'env.K: must be a string (got null)'],
    [{ env: { '1BAD': 'x' } }, 'env.1BAD', 'env.1BAD: name must match [A-Za-z_][A-Za-z0-9_.-]*'],
    [{ environment: [['has space', 'x']] }, 'env.has space', 'env.has space: name must match [A-Za-z_][A-Za-z0-9_.-]*'],
    [{ env: ['A-B=1', 'C D=2'] }, 'env.C D', 'env.C D: name must match [A-Za-z_][A-Za-z0-9_.-]*'],
    [{ env: { K: 'V' }, environment: [['K', 'V']] }, 'environment', 'environment: conflicts with env: give one of them'],
  ];
  for (const [extra, field, message] of bad) {
    it(`rejects ${JSON.stringify(extra)}`, () => assertInvalid(base(extra), field, message));
  }
});

describe('parseTaskSpec: secret_env', () => {
  const forms: [string, unknown, Record<string, string>][] = [
    ['an object', { DB_PASSWORD: 's3cret', TOKEN: 'x=y' }, { DB_PASSWORD: 's3cret', TOKEN: 'x=y' }],
    ['"KEY=VALUE" strings', ['DB_PASSWORD=s3cret', 'EMPTY='], { DB_PASSWORD: 's3cret', EMPTY: '' }],
    ['pairs', [['DB_PASSWORD', 's3cret']], { DB_PASSWORD: 's3cret' }],
    ['numbers, as strings', { PIN: 1234 }, { PIN: '1234' }],
    ['null, as none', null, {}],
  ];
  for (const [label, secret_env, expected] of forms) {
    it(`accepts ${label}`, () => assert.deepEqual(parseTaskSpec(base({ secret_env })).secret_env, expected));
  }

  it('keeps env and secret_env apart', () => {
    const spec = parseTaskSpec(base({ env: { MODE: 'prod' }, secret_env: { DB_PASSWORD: 's3cret' } }));
    assert.deepEqual([spec.env, spec.secret_env], [{ MODE: 'prod' }, { DB_PASSWORD: 's3cret' }]);
  });

  // The value given never appears in the message: a rejection and the logs carry it.
  const bad: [Record<string, unknown>, string, string][] = [
    [{ env: { DB_PASSWORD: 'a' }, secret_env: { DB_PASSWORD: 's3cret' } }, 'secret_env.DB_PASSWORD',
      'secret_env.DB_PASSWORD: is also in env: give it in one of them'],
    [{ environment: [['K', 'v']], secret_env: ['K=s3cret'] }, 'secret_env.K', 'secret_env.K: is also in env: give it in one of them'],
    [{ secret_env: ['s3cret'] }, 'secret_env[0]', 'secret_env[0]: must be "KEY=VALUE"'],
    [{ secret_env: [['K', 's3cret', 'x']] }, 'secret_env[0]', 'secret_env[0]: must be "KEY=VALUE" or ["KEY", "VALUE"]'],
    [{ secret_env: 's3cret' }, 'secret_env', 'secret_env: must be an object'],
    [{ secret_env: { K: { s3cret: 1 } } }, 'secret_env.K', 'secret_env.K: must be a string'],
    [{ secret_env: { '1BAD': 's3cret' } }, 'secret_env.1BAD', 'secret_env.1BAD: name must match [A-Za-z_][A-Za-z0-9_.-]*'],
    [{ secret_env: { K: 'x'.repeat(32 * 1024 + 1) } }, 'secret_env.K', 'secret_env.K: must be at most 32768 characters'],
    [{ secret_env: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`K${i}`, 's3cret'])) }, 'secret_env',
      'secret_env: must have at most 1000 entries'],
    [{ secret_env: { K: 's3\u0000cret' } }, 'secret_env.K', 'secret_env.K: must not contain the NUL character (\\u0000)'],
  ];
  for (const [extra, field, message] of bad) {
    // The whole message is compared: it names the entry and the rule, and quotes nothing given.
    it(`rejects ${JSON.stringify(extra).slice(0, 100)}, naming ${field} and not the value`, () => assertInvalid(base(extra), field, message));
  }
});

describe('hideSecretValues', () => {
  it('keeps the names and shows (secret) for each value, changing nothing else', () => {
    const spec = parseTaskSpec(base({ env: { MODE: 'prod' }, secret_env: { DB_PASSWORD: 's3cret', TOKEN: 't0ken' } }));
    const shown = hideSecretValues(spec);
    assert.deepEqual(shown, { ...spec, secret_env: { DB_PASSWORD: SECRET_SHOWN, TOKEN: SECRET_SHOWN } });
    assert.equal(SECRET_SHOWN, '(secret)');
    assert.equal(spec.secret_env['DB_PASSWORD'], 's3cret', 'the spec given is not changed');
  });
  it('gives a spec without secrets back as it is', () => {
    const spec = parseTaskSpec(base({ env: { MODE: 'prod' } }));
    assert.equal(hideSecretValues(spec), spec);
  });
});

describe('parseTaskSpec: volumes', () => {
  const good: [Record<string, unknown>, string[]][] = [
    [{ volumes: ['/data:/data'] }, ['/data:/data']],
    [{ volumes: ['/a:/b:ro', '/c:/d:rw'] }, ['/a:/b:ro', '/c:/d:rw']],
    [{ datavolumes: ['/host/x:/ctr/y'] }, ['/host/x:/ctr/y']],
    [{ datavolumes: [] }, []],
  ];
  for (const [extra, expected] of good) {
    it(`accepts ${JSON.stringify(extra)}`, () => assert.deepEqual(parseTaskSpec(base(extra)).volumes, expected));
  }

  it('does not keep the datavolumes alias in the result', () => {
    assert.equal('datavolumes' in parseTaskSpec(base({ datavolumes: ['/a:/b'] })), false);
  });

  const bad: [Record<string, unknown>, string, string][] = [
    [{ volumes: ['relative:/x'] }, 'volumes[0]', `volumes[0]: ${VOLUME_RULE} (got "relative:/x")`],
    [{ volumes: ['/a:/b', '/only-host'] }, 'volumes[1]', `volumes[1]: ${VOLUME_RULE} (got "/only-host")`],
    [{ volumes: ['/a:b'] }, 'volumes[0]', `volumes[0]: ${VOLUME_RULE} (got "/a:b")`],
    [{ volumes: ['/a:/b:rx'] }, 'volumes[0]', `volumes[0]: ${VOLUME_RULE} (got "/a:/b:rx")`],
    [{ volumes: ['/a:/b:ro:extra'] }, 'volumes[0]', `volumes[0]: ${VOLUME_RULE} (got "/a:/b:ro:extra")`],
    [{ datavolumes: ['nope'] }, 'volumes[0]', `volumes[0]: ${VOLUME_RULE} (got "nope")`],
    [{ volumes: '/a:/b' }, 'volumes', 'volumes: must be a list (got "/a:/b")'],
    [{ volumes: ['/a:/b'], datavolumes: ['/c:/d'] }, 'datavolumes', 'datavolumes: conflicts with volumes: give one of them'],
  ];
  for (const [extra, field, message] of bad) {
    it(`rejects ${JSON.stringify(extra)}`, () => assertInvalid(base(extra), field, message));
  }
});

describe('parseVolume', () => {
  const cases: [string, { host: string; container: string; readOnly: boolean }][] = [
    ['/a:/b', { host: '/a', container: '/b', readOnly: false }],
    ['/a:/b:ro', { host: '/a', container: '/b', readOnly: true }],
    ['/a:/b:rw', { host: '/a', container: '/b', readOnly: false }],
    ['/srv/data dir:/mnt', { host: '/srv/data dir', container: '/mnt', readOnly: false }],
  ];
  for (const [volume, expected] of cases) {
    it(`parses ${volume}`, () => assert.deepEqual(parseVolume(volume), expected));
  }
  it('rejects a malformed volume', () => {
    assert.throws(() => parseVolume('a:b'), {
      code: 'invalid_spec',
      field: 'volumes',
      message: `volumes: ${VOLUME_RULE} (got "a:b")`,
    });
  });
});

describe('parseTaskSpec: dependencies', () => {
  it('accepts distinct valid dependencies in order', () => {
    assert.deepEqual(parseTaskSpec(base({ dependencies: ['b', 'a', 'c-1'] })).dependencies, ['b', 'a', 'c-1']);
  });

  const bad: [unknown[], string, string][] = [
    [['job'], 'dependencies[0]', 'dependencies[0]: a task cannot depend on itself'],
    [['a', 'job'], 'dependencies[1]', 'dependencies[1]: a task cannot depend on itself'],
    [['a', 'b', 'a'], 'dependencies[2]', 'dependencies[2]: "a" is listed twice'],
    [['bad name'], 'dependencies[0]', 'dependencies[0]: must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ (got "bad name")'],
    [['ok', ''], 'dependencies[1]', 'dependencies[1]: must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ (got "")'],
    [['ok', 7], 'dependencies[1]', 'dependencies[1]: must be a string (got 7)'],
  ];
  for (const [dependencies, field, message] of bad) {
    it(`rejects ${JSON.stringify(dependencies)}`, () => assertInvalid(base({ dependencies }), field, message));
  }

  it('rejects a dependency list that is not a list', () =>
    assertInvalid(base({ dependencies: 'a' }), 'dependencies', 'dependencies: must be a list (got "a")'));
});

describe('parseTaskSpec: retry fields', () => {
  const good: [Record<string, unknown>, Partial<Record<string, unknown>>][] = [
    [{ recoverable_exitcodes: [1, 2, 255] }, { recoverable_exitcodes: [1, 2, 255] }],
    [{ max_failures: 1 }, { max_failures: 1 }],
    [{ max_failures: 1000 }, { max_failures: 1000 }],
    [{ restartable: false }, { restartable: false }],
    [{}, { retry_delay: 1, retry_max_delay: 300 }],
    [{ retry_delay: 0 }, { retry_delay: 0, retry_max_delay: 300 }],
    [{ retry_delay: 600 }, { retry_delay: 600, retry_max_delay: 600 }],
    [{ retry_delay: 10, retry_max_delay: 60 }, { retry_delay: 10, retry_max_delay: 60 }],
  ];
  for (const [extra, expected] of good) {
    it(`accepts ${JSON.stringify(extra)}`, () => {
      const spec = parseTaskSpec(base(extra)) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(spec[k], v);
    });
  }

  const bad: [Record<string, unknown>, string, string][] = [
    [{ recoverable_exitcodes: [0] }, 'recoverable_exitcodes[0]', 'recoverable_exitcodes[0]: must be >= 1 (got 0)'],
    [{ recoverable_exitcodes: [1, 256] }, 'recoverable_exitcodes[1]', 'recoverable_exitcodes[1]: must be <= 255 (got 256)'],
    [{ recoverable_exitcodes: [1.5] }, 'recoverable_exitcodes[0]', 'recoverable_exitcodes[0]: must be an integer (got 1.5)'],
    [{ max_failures: 0 }, 'max_failures', 'max_failures: must be >= 1 (got 0)'],
    [{ max_failures: 1001 }, 'max_failures', 'max_failures: must be <= 1000 (got 1001)'],
    [{ max_failures: 2.5 }, 'max_failures', 'max_failures: must be an integer (got 2.5)'],
    [{ max_failures: '3' }, 'max_failures', 'max_failures: must be an integer (got "3")'],
    [{ restartable: 'yes' }, 'restartable', 'restartable: must be true or false (got "yes")'],
    [{ restartable: 1 }, 'restartable', 'restartable: must be true or false (got 1)'],
    [{ retry_delay: -1 }, 'retry_delay', 'retry_delay: must be >= 0 (got -1)'],
    [{ retry_delay: 86_401 }, 'retry_delay', 'retry_delay: must be <= 86400 (got 86401)'],
    [{ retry_delay: '5s' }, 'retry_delay', 'retry_delay: must be a number (got "5s")'],
    [{ retry_delay: 10, retry_max_delay: 5 }, 'retry_max_delay', 'retry_max_delay: must be at least retry_delay (10; got 5)'],
  ];
  for (const [extra, field, message] of bad) {
    it(`rejects ${JSON.stringify(extra)}`, () => assertInvalid(base(extra), field, message));
  }
});

describe('parseTaskSpec: cpu, memory and constraints', () => {
  const good: [Record<string, unknown>, 'cpu' | 'memory', number][] = [
    [{ cpu: 0.001 }, 'cpu', 0.001],
    [{ cpu: 1024 }, 'cpu', 1024],
    [{ memory: 4 }, 'memory', 4],
    [{ memory: 4194304 }, 'memory', 4194304],
  ];
  for (const [extra, field, value] of good) {
    it(`accepts ${JSON.stringify(extra)}`, () => assert.equal(parseTaskSpec(base(extra))[field], value));
  }

  const bad: [Record<string, unknown>, string, string][] = [
    [{ cpu: 0 }, 'cpu', 'cpu: must be a number > 0 and <= 1024, or null (got 0)'],
    [{ cpu: -1 }, 'cpu', 'cpu: must be a number > 0 and <= 1024, or null (got -1)'],
    [{ cpu: 1025 }, 'cpu', 'cpu: must be a number > 0 and <= 1024, or null (got 1025)'],
    [{ cpu: '1' }, 'cpu', 'cpu: must be a number > 0 and <= 1024, or null (got "1")'],
    [{ memory: 3 }, 'memory', 'memory: must be an integer >= 4 and <= 4194304, or null (got 3)'],
    [{ memory: 4194305 }, 'memory', 'memory: must be an integer >= 4 and <= 4194304, or null (got 4194305)'],
    [{ memory: 64.5 }, 'memory', 'memory: must be an integer >= 4 and <= 4194304, or null (got 64.5)'],
    [{ constraints: { '-zone': 'a' } }, 'constraints.-zone',
      'constraints.-zone: label name must match [A-Za-z0-9][A-Za-z0-9_./-]{0,62}'],
    [{ constraints: { zone: 1 } }, 'constraints.zone', 'constraints.zone: must be a string (got 1)'],
  ];
  for (const [extra, field, message] of bad) {
    it(`rejects ${JSON.stringify(extra)}`, () => assertInvalid(base(extra), field, message));
  }
});

describe('parseTaskSpec: cron, timezone, concurrency, starting_deadline, schedule_at', () => {
  it('fills the timezone of a cron task from the default given (TZ), else UTC', () => {
    assert.equal(parseTaskSpec(base({ cron: '@daily' })).timezone, 'UTC');
    assert.equal(parseTaskSpec(base({ cron: '@daily' }), { defaultTimezone: 'America/New_York' }).timezone, 'America/New_York');
    assert.equal(parseTaskSpec(base({ cron: '@daily', timezone: 'Asia/Tokyo' }), { defaultTimezone: 'America/New_York' }).timezone, 'Asia/Tokyo');
    assert.equal(parseTaskSpec(base(), { defaultTimezone: 'America/New_York' }).timezone, null);
  });

  const accepted: [string, Record<string, unknown>][] = [
    ["Tangerine's 0,30 * * * *", { cron: '0,30 * * * *' }],
    ["Tangerine's 0 5 * * 0-4", { cron: '0 5 * * 0-4' }],
    ["Tangerine's 1-10 1,3,5 * 1-2,5,7-10 1-5", { cron: '1-10 1,3,5 * 1-2,5,7-10 1-5' }],
    ['six fields with seconds', { cron: '*/2 * * * * *' }],
    ['H', { cron: 'H H(0-5) * * *' }],
    ['a macro', { cron: '@weekly' }],
  ];
  for (const [label, extra] of accepted) {
    it(`accepts ${label}`, () => assert.equal(parseTaskSpec(base(extra)).cron, extra['cron']));
  }

  const invalid: [string, Record<string, unknown>, string, RegExp][] = [
    ['a bad hour', { cron: '0 24 * * *' }, 'cron', /^cron: hour field: "24".*0-23/],
    ['too few fields', { cron: '* * *' }, 'cron', /^cron: expected 5 fields/],
    ['an unknown weekday', { cron: '0 0 * * FUNDAY' }, 'cron', /^cron: day of week field: "FUNDAY"/],
    ['an unknown zone', { cron: '@daily', timezone: 'Mars/Olympus' }, 'timezone', /^timezone: "Mars\/Olympus"/],
    ['a zone without cron', { timezone: 'UTC' }, 'timezone', /^timezone: only applies to a cron task/],
    ['a cron that is not a string', { cron: 5 }, 'cron', /^cron: /],
  ];
  for (const [label, extra, field, message] of invalid) {
    it(`rejects ${label}, naming the field`, () => {
      assert.throws(() => parseTaskSpec(base(extra)), (err: unknown) => {
        assert.ok(isValidationError(err));
        assert.equal(err.code, 'invalid_spec');
        assert.equal(err.field, field);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('rejects an unknown concurrency', () =>
    assertInvalid(base({ cron: '@daily', concurrency: 'replace' }), 'concurrency', 'concurrency: must be one of "forbid" or "allow" (got "replace")'));
  it('rejects a starting_deadline of 0', () =>
    assertInvalid(base({ starting_deadline: 0 }), 'starting_deadline', 'starting_deadline: must be >= 1 (got 0)'));

  it('limits the name of a cron task with concurrency allow to 84 characters, for its runs\' names', () => {
    assert.equal(parseTaskSpec(base({ name: 'a'.repeat(84), cron: '@daily', concurrency: 'allow' })).name.length, 84);
    assertInvalid(base({ name: 'a'.repeat(85), cron: '@daily', concurrency: 'allow' }), 'name',
      'name: must be at most 84 characters with concurrency "allow" (its runs are named <name>-<YYYYMMDDTHHMMSS>)');
  });

  const instants: [string, string][] = [
    ['2026-11-22T12:00:00Z', '2026-11-22T12:00:00.000Z'],
    ['2026-11-22T13:00:00+01:00', '2026-11-22T12:00:00.000Z'],
    ['2026-11-22T07:00:00.250-05:00', '2026-11-22T12:00:00.250Z'],
    ['2026-11-22T12:00Z', '2026-11-22T12:00:00.000Z'],
    ['2028-02-29T00:00:00+0000', '2028-02-29T00:00:00.000Z'],
  ];
  for (const [given, stored] of instants) {
    it(`stores schedule_at ${given} as ${stored}`, () => assert.equal(parseTaskSpec(base({ schedule_at: given })).schedule_at, stored));
  }

  const badInstants: [unknown, string][] = [
    ['2026-11-22T12:00:00', 'must be an ISO 8601 time with an offset, e.g. "2026-11-22T12:00:00Z" or "2026-11-22T13:00:00+01:00" (got "2026-11-22T12:00:00")'],
    ['tomorrow', 'must be an ISO 8601 time with an offset, e.g. "2026-11-22T12:00:00Z" or "2026-11-22T13:00:00+01:00" (got "tomorrow")'],
    ['2026-02-30T00:00:00Z', '"2026-02-30T00:00:00Z" is not a date and time that exists'],
    ['2027-02-29T00:00:00Z', '"2027-02-29T00:00:00Z" is not a date and time that exists'],
    ['2026-11-22T24:00:00Z', '"2026-11-22T24:00:00Z" is not a date and time that exists'],
  ];
  for (const [given, rule] of badInstants) {
    it(`rejects schedule_at ${JSON.stringify(given)}`, () => assertInvalid(base({ schedule_at: given }), 'schedule_at', `schedule_at: ${rule}`));
  }
});

describe('parseTaskSpec: timeout', () => {
  it('takes seconds, fractions too', () => assert.equal(parseTaskSpec(base({ timeout: 0.5 })).timeout, 0.5));
  it('rejects 0', () => assertInvalid(base({ timeout: 0 }), 'timeout', 'timeout: must be a number > 0 and <= 31536000, or null (got 0)'));
  it('rejects a string', () => assertInvalid(base({ timeout: '10s' }), 'timeout', 'timeout: must be a number > 0 and <= 31536000, or null (got "10s")'));
});

describe('parseTaskSpec: notify', () => {
  const accepted: [unknown, unknown][] = [
    [undefined, undefined],
    [[], []],
    [['success', 'failed'], ['success', 'failed']],
    [['success', 'failed', 'blocked', 'cancelled'], ['success', 'failed', 'blocked', 'cancelled']],
  ];
  for (const [given, kept] of accepted) {
    it(`takes ${JSON.stringify(given)}`, () => assert.deepEqual(parseTaskSpec(base(given === undefined ? {} : { notify: given })).notify, kept));
  }
  const refused: [unknown, string, string][] = [
    ['failed', 'notify', 'notify: must be a list (got "failed")'],
    [['running'], 'notify[0]', 'notify[0]: must be one of "success", "failed", "blocked", "cancelled" (got "running")'],
    [['failed', 'failed'], 'notify[1]', 'notify[1]: "failed" is listed twice'],
    [['success', 'failed', 'blocked', 'cancelled', 'success'], 'notify', 'notify: must have at most 4 items'],
  ];
  for (const [given, field, message] of refused) {
    it(`rejects ${JSON.stringify(given)}`, () => assertInvalid(base({ notify: given }), field, message));
  }
});

describe('parseTaskSpec: instance', () => {
  const TYPE_RULE = '^[a-z][a-z0-9-]{0,30}\\.[a-z0-9]{1,31}$';
  const accepted: [unknown, unknown][] = [
    [undefined, undefined],
    [{ type: 'c5.large' }, { type: 'c5.large', spot: true }],
    [{ type: 'm6i.2xlarge', spot: false }, { type: 'm6i.2xlarge', spot: false }],
    [{ type: 'u-6tb1.metal' }, { type: 'u-6tb1.metal', spot: true }],
  ];
  for (const [given, kept] of accepted) {
    it(`takes ${JSON.stringify(given)}`, () => assert.deepEqual(parseTaskSpec(base(given === undefined ? {} : { instance: given })).instance, kept));
  }
  const refused: [unknown, string, string][] = [
    ['c5.large', 'instance', 'instance: must be an object (got "c5.large")'],
    [{}, 'instance.type', 'instance.type: is required'],
    [{ type: 'C5.LARGE' }, 'instance.type', `instance.type: must match ${TYPE_RULE} (got "C5.LARGE")`],
    [{ type: 'c5' }, 'instance.type', `instance.type: must match ${TYPE_RULE} (got "c5")`],
    [{ type: `c5.${'x'.repeat(40)}` }, 'instance.type', `instance.type: must match ${TYPE_RULE} (got "c5.${'x'.repeat(40)}")`],
    [{ type: 'c5.large', spot: 'yes' }, 'instance.spot', 'instance.spot: must be true or false (got "yes")'],
    [{ type: 'c5.large', ami: 'ami-1' }, 'instance.ami', 'instance.ami: unknown field'],
  ];
  for (const [given, field, message] of refused) {
    it(`rejects ${JSON.stringify(given)}`, () => assertInvalid(base({ instance: given }), field, message));
  }
  it('refuses the task label as a constraint: Tangerine sets it', () => assertInvalid(
    base({ constraints: { task: 'job' } }), 'constraints.task',
    'constraints.task: is the label of a task\'s own instance, set by Tangerine: give "instance" to run a task on one',
  ));
});

describe('parseTaskSpec: limits', () => {
  /** A list nested `n` levels deep, built without recursion. */
  const deep = (n: number): unknown[] => {
    let v: unknown[] = [];
    for (let i = 1; i < n; i++) v = [v];
    return v;
  };
  const env = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, 'v']));
  const bad: [string, Record<string, unknown>, string, string][] = [
    // The example of issue #10: an env 5,000 lists deep once overflowed the stack and stalled intake.
    ['env nested 5,000 deep', base({ env: deep(5000) }), 'spec', 'spec: must not nest deeper than 16 levels'],
    ['a constraint value nested 20 deep', base({ constraints: { a: deep(20) } }), 'spec', 'spec: must not nest deeper than 16 levels'],
    ['a spec over 256 KiB', base({ command: ['x'.repeat(30_000), ...Array.from({ length: 9 }, () => 'y'.repeat(30_000))] }),
      'spec', `spec: must be at most 262144 bytes as JSON (got ${JSON.stringify(base({ command: ['x'.repeat(30_000), ...Array.from({ length: 9 }, () => 'y'.repeat(30_000))] })).length})`],
    ['a command argument over 32 KiB', base({ command: ['x'.repeat(32_769)] }), 'command[0]', 'command[0]: must be at most 32768 characters'],
    ['an entrypoint argument over 32 KiB', base({ entrypoint: ['x'.repeat(32_769)] }), 'entrypoint[0]', 'entrypoint[0]: must be at most 32768 characters'],
    ['an env value over 32 KiB', base({ env: { A: 'x'.repeat(32_769) } }), 'env.A', 'env.A: must be at most 32768 characters'],
    ['more than 1,000 env entries', base({ env: env(1001) }), 'env', 'env: must have at most 1000 entries'],
    ['more than 1,000 env entries as a list', base({ env: Array.from({ length: 1001 }, (_, i) => `K${i}=v`) }), 'env', 'env: must have at most 1000 entries'],
    ['an env name over 256 characters, the field shortened', base({ env: { [`A${'b'.repeat(256)}`]: 'v' } }), `env.A${'b'.repeat(62)}…`, `env.A${'b'.repeat(62)}…: name must be at most 256 characters`],
    ['an env value that is not a string under a huge name', base({ env: { ['N'.repeat(100_000)]: [] } }), `env.${'N'.repeat(63)}…`, `env.${'N'.repeat(63)}…: must be a string (got [])`],
    ['more than 64 constraints', base({ constraints: env(65) }), 'constraints', 'constraints: must have at most 64 entries'],
    ['a constraint value over 256 characters', base({ constraints: { zone: 'z'.repeat(257) } }), 'constraints.zone', 'constraints.zone: must be at most 256 characters'],
    ['more than 1,000 command items', base({ command: Array.from({ length: 1001 }, () => 'a') }), 'command', 'command: must have at most 1000 items'],
    ['more than 100 volumes', base({ volumes: Array.from({ length: 101 }, (_, i) => `/a${i}:/b${i}`) }), 'volumes', 'volumes: must have at most 100 items'],
    ['a volume over 4,096 characters', base({ volumes: [`/${'a'.repeat(4096)}:/b`] }), 'volumes[0]', 'volumes[0]: must be at most 4096 characters'],
    ['more than 10,000 dependencies', base({ dependencies: Array.from({ length: 10_001 }, (_, i) => `d${i}`) }), 'dependencies', 'dependencies: must have at most 10000 items'],
    ['a NUL character in an env value', base({ env: { A: 'x\u0000y' } }), 'env.A', 'env.A: must not contain the NUL character (\\u0000)'],
    ['a NUL character in a command argument', base({ command: ['ok', 'a\u0000'] }), 'command[1]', 'command[1]: must not contain the NUL character (\\u0000)'],
    ['a schedule_at over 64 characters', base({ schedule_at: `2026-01-01T00:00:00${'0'.repeat(60)}Z` }), 'schedule_at', 'schedule_at: must be at most 64 characters'],
  ];
  for (const [label, input, field, message] of bad) {
    it(`rejects ${label}, naming the field and the limit`, () => assertInvalid(input, field, message));
  }

  const good: [string, Record<string, unknown>][] = [
    ['a command argument of exactly 32 KiB', base({ command: ['x'.repeat(32_768)] })],
    ['1,000 env entries', base({ env: env(1000) })],
    ['a fan-in of 10,000 dependencies', base({ dependencies: Array.from({ length: 10_000 }, (_, i) => `part-${i}`) })],
    ['environment pairs (4 levels with the list form)', base({ environment: [['K', 'V']] })],
    ['the text \\u0000 (a backslash, not a NUL)', base({ command: ['printf', '\\u0000'] })],
  ];
  for (const [label, input] of good) {
    it(`accepts ${label}`, () => assert.equal(parseTaskSpec(input).name, 'job'));
  }

  it('refuses a spec 100,000 levels deep with the rule, not a stack overflow', () => {
    assertInvalid(base({ env: deep(100_000) }), 'spec', 'spec: must not nest deeper than 16 levels');
  });
});
