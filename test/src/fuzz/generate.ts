/**
 * Bad input, generated: what an unkind user, a broken client or a confused script sends. Every case is refused by
 * Tangerine's rules (none is a valid spec), and is built from a seeded PRNG, so a failing run can be repeated.
 */

/** A small PRNG (mulberry32): the same seed gives the same cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BadCase {
  /** What is broken, for a failure message. */
  label: string;
  /** The bytes sent. */
  data: Uint8Array;
  /** Specs of a list the payload holds (each refused on its own), or 1 for anything else. */
  rejections: number;
}

const enc = new TextEncoder();
const deep = (n: number, leaf = '[]'): string => `${'['.repeat(n)}${leaf}${']'.repeat(n)}`;
const big = (n: number): string => 'x'.repeat(n);

/**
 * Bad values of each field of the spec, every way each can be wrong: its type, its range, its length, its count,
 * its nesting, its characters. `null` is left out where the spec takes it for "absent".
 */
export const BAD_FIELDS: Record<string, unknown[]> = {
  name: ['', 'has space', '-leading', 'a'.repeat(101), 5, true, [], {}, 'dot.name', 'x\u0000'],
  executor: ['kubernetes', 5, true, [], {}, ''],
  image: ['', 5, true, [], {}, big(600)],
  imageuuid: ['ubuntu', 'docker:', 5, [], {}],
  command: [5, true, {}, [1, 2], [[]], [big(40_000)], Array.from({ length: 1001 }, () => 'a'), ['a\u0000b']],
  entrypoint: [5, true, {}, [1], [big(40_000)], Array.from({ length: 101 }, () => 'a')],
  env: [5, 'K=V', true, ['noequals'], [5], [['K']], [['K', 5]], { 'bad key': 'v' }, { K: [] }, { K: {} }, { K: big(40_000) },
    Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`K${i}`, 'v'])), { [big(300)]: 'v' }, { K: 'v\u0000' }],
  environment: [5, 'x', [['K']], [[5, 'v']], [['K', 'V', 'extra']]],
  volumes: [5, 'x', ['relative:/c'], ['/h'], ['/h:/c:rx'], [5], Array.from({ length: 101 }, (_, i) => `/h${i}:/c${i}`), [`/${big(5000)}:/c`]],
  datavolumes: ['x', ['nope'], [5]],
  dependencies: [5, 'x', ['bad name'], [5], ['dup', 'dup'], Array.from({ length: 10_001 }, (_, i) => `d${i}`)],
  restartable: ['yes', 1, [], {}],
  recoverable_exitcodes: [5, 'x', [0], [256], [1.5], ['1'], Array.from({ length: 256 }, (_, i) => (i % 255) + 1)],
  max_failures: [0, -1, 1001, 2.5, '3', [], true],
  retry_delay: [-1, 86_401, '5s', [], true],
  retry_max_delay: [-1, 86_401, 'x', []],
  constraints: [5, 'zone=a', [], { zone: 5 }, { 'bad key!': 'a' }, { zone: big(300) },
    Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))],
  cpu: [0, -1, 1025, 'two', [], true],
  memory: [3, 4_194_305, 64.5, '1g', [], true],
  cron: ['', '* * *', '61 * * * *', '* 25 * * *', 'every day', 5, [], big(300)],
  timezone: ['Mars/Olympus', '', 5, []],
  concurrency: ['sometimes', 5, [], true],
  starting_deadline: [0, -5, 31_536_001, 1.5, 'soon'],
  schedule_at: ['tomorrow', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-11-22T12:00:00', 5, [], big(100)],
  timeout: [0, -1, 31_536_001, 'long', [], true],
};

/** Payloads that are not a spec at all. */
function shapes(): [string, string | Uint8Array][] {
  return [
    ['not JSON', '{"name": "a"'],
    ['not JSON: a bare word', 'hello'],
    ['empty', ''],
    ['whitespace', '   \n'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['a number', '42'],
    ['a string', '"spec"'],
    ['null', 'null'],
    ['true', 'true'],
    ['an object nested 5,000 deep (issue #10)', `{"name":"fz-deep","image":"busybox","env":${deep(5000)}}`],
    ['a list nested 100,000 deep', deep(100_000)],
    ['an object of 50,000 keys', JSON.stringify({ name: 'fz-keys', image: 'b', ...Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) })],
    ['a 900 KB string', JSON.stringify({ name: 'fz-huge', image: 'b', command: [big(900_000)] })],
    ['a spec of 300 KB', JSON.stringify({ name: 'fz-300k', image: 'b', command: Array.from({ length: 10 }, () => big(30_000)) })],
    ['an unknown field', JSON.stringify({ name: 'fz-unknown', image: 'b', colour: 'red' })],
    ['a typo of a field', JSON.stringify({ name: 'fz-typo', image: 'b', dependecies: ['a'] })],
    ['no name', JSON.stringify({ image: 'b' })],
    ['no image', JSON.stringify({ name: 'fz-noimage' })],
    ['image and imageuuid', JSON.stringify({ name: 'fz-both', image: 'b', imageuuid: 'docker:b' })],
    ['env and environment', JSON.stringify({ name: 'fz-envs', image: 'b', env: {}, environment: [] })],
    ['process executor without a command', JSON.stringify({ name: 'fz-nocmd', executor: 'process' })],
    ['a timezone without cron', JSON.stringify({ name: 'fz-tz', image: 'b', timezone: 'UTC' })],
    ['depends on itself', JSON.stringify({ name: 'fz-self', image: 'b', dependencies: ['fz-self'] })],
    ['retry_max_delay below retry_delay', JSON.stringify({ name: 'fz-backoff', image: 'b', retry_delay: 10, retry_max_delay: 5 })],
  ];
}

/**
 * `count` bad submissions: every shape above, a list of 1,001 specs, lists whose every spec is bad, then every bad
 * value of every field in turn (and again, with other names, until `count` is reached). Names are `fz-<n>`, so the
 * test can tell that none of them reached the ledger.
 */
export function badSubmissions(count: number, seed = 1): BadCase[] {
  const random = prng(seed);
  const cases: BadCase[] = [];
  const add = (label: string, payload: string | Uint8Array, rejections = 1): void => {
    cases.push({ label, data: typeof payload === 'string' ? enc.encode(payload) : payload, rejections });
  };
  for (const [label, payload] of shapes()) add(label, payload);
  add('a list of 1,001 specs', JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ name: `fz-list-${i}`, executor: 'process', command: 'true' }))));
  add('a list of bad specs, each refused on its own', JSON.stringify([{ name: 'fz-l1', image: 5 }, { name: 'bad name' }, 7]), 3);
  const fields = Object.entries(BAD_FIELDS).flatMap(([field, values]) => values.map((value) => [field, value] as const));
  for (let i = 0; cases.length < count; i++) {
    const [field, value] = fields[i % fields.length]!;
    const name = field === 'name' ? value : `fz-${i}`;
    // A valid base of either executor, so that each spec breaks exactly the rule of its one bad field.
    const base = random() < 0.5 ? { name, image: 'busybox' } : { name, executor: 'process', command: ['true'] };
    const spec: Record<string, unknown> = { ...base, [field]: value };
    if (field === 'imageuuid' || field === 'image') delete spec[field === 'imageuuid' ? 'image' : 'imageuuid'];
    if (field === 'imageuuid') spec['executor'] = 'docker';
    if (field === 'environment') delete spec['env'];
    if (field === 'retry_max_delay') spec['retry_delay'] = 0;
    if (field === 'timezone') spec['cron'] = '@daily';
    add(`${field}: ${JSON.stringify(value)?.slice(0, 40)}`, JSON.stringify(spec));
  }
  return cases.slice(0, Math.max(count, cases.length));
}

/** Bad cancels: each gets one rejection. */
export function badCancels(): [string, string][] {
  return [
    ['not JSON', '{'],
    ['no name', '{}'],
    ['a list', '[{"name": "x"}]'],
    ['a bad name', '{"name": "bad name"}'],
    ['a name that is a number', '{"name": 5}'],
    ['an unknown field', '{"name": "fz-x", "force": true}'],
    ['no such task', '{"name": "fz-never-submitted"}'],
    ['deep', `{"name": ${deep(5000, '"x"')}}`],
  ];
}

/** Garbage for an internal subject: every one is set aside as a dead letter. */
export function garbage(): [string, string][] {
  return [
    ['not JSON', '{oops'],
    ['empty', ''],
    ['a number', '7'],
    ['an empty object', '{}'],
    ['deep', deep(10_000)],
    ['wrong types', '{"name": 5, "attempt": "one", "host": [], "exit_code": "zero"}'],
    ['a bad task name', '{"name": "bad name", "attempt": 1, "host": "h", "run_id": "x", "at": "now"}'],
  ];
}

/** Bodies no request subject accepts. */
export function badRequests(): [string, string][] {
  return [
    ['not JSON', '{"name"'],
    ['a list', '[]'],
    ['a number', '5'],
    ['an unknown field', '{"name": "x", "colour": "red"}'],
    ['a bad name', '{"name": "bad name", "host": "bad host", "attempt": 0}'],
    ['deep', `{"name": ${deep(5000)}}`],
    ['a huge string', JSON.stringify({ name: big(500_000) })],
  ];
}
