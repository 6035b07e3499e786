// The lint configuration catches what it is there for: each rule fires on a planted violation, in a tree laid out
// like the repository (two packages under libs/, the same tsconfig.base.json), and stays silent on a clean file.
// Run by `npm test` before `npm run lint`; alone: `node --test scripts/lint.test.mjs`.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { lintConfig } from '../eslint.config.js';

const root = join(import.meta.dirname, '..');

/** Planted files, by path under the fixture's root; `expect` is the set of rules each must trip. */
const planted = {
  'libs/alpha/src/floating.ts': {
    expect: ['@typescript-eslint/no-floating-promises'],
    text: `async function work(): Promise<void> {}\nexport function start(): void {\n  work();\n}\n`,
  },
  'libs/alpha/src/misused.ts': {
    expect: ['@typescript-eslint/no-misused-promises'],
    text: `export function each(xs: number[]): void {\n  xs.forEach(async (x) => {\n    await Promise.resolve(x);\n  });\n}\n`,
  },
  'libs/alpha/src/shape.ts': { expect: [], text: `export interface Shape {\n  w: number;\n  h: number;\n}\n` },
  'libs/alpha/src/type-import.ts': {
    expect: ['@typescript-eslint/consistent-type-imports'],
    text: `import { Shape } from './shape.js';\nexport const area = (s: Shape): number => s.w * s.h;\n`,
  },
  'libs/alpha/src/type-export.ts': {
    expect: ['@typescript-eslint/consistent-type-exports'],
    text: `export { Shape } from './shape.js';\n`,
  },
  'libs/alpha/src/deep.ts': {
    expect: ['no-restricted-imports'],
    text: `import { secret } from '@tangerine/beta/src/internal.js';\nexport const leaked = secret;\n`,
  },
  'libs/alpha/src/relative.ts': {
    expect: ['import-x/no-relative-packages'],
    text: `import { secret } from '../../beta/src/internal.js';\nexport const leaked = secret;\n`,
  },
  'libs/alpha/src/cycle-a.ts': {
    expect: ['import-x/no-cycle'],
    text: `import { b } from './cycle-b.js';\nexport const a = (): number => b() + 1;\n`,
  },
  'libs/alpha/src/cycle-b.ts': {
    expect: ['import-x/no-cycle'],
    text: `import { a } from './cycle-a.js';\nexport const b = (): number => a() - 1;\n`,
  },
  // What the rules allow: a package by its name, type imports as such, promises awaited or caught, and the
  // promises of node:test's describe() and it().
  'libs/alpha/src/clean.ts': {
    expect: [],
    text: [
      `import { describe, it } from 'node:test';`,
      `import { secret } from '@tangerine/beta';`,
      `import { type Shape } from './shape.js';`,
      `async function work(): Promise<number> {\n  return secret;\n}`,
      `export async function run(s: Shape): Promise<number> {\n  work().catch(() => undefined);\n  return (await work()) * s.w;\n}`,
      `describe('clean', () => {\n  it('runs', async () => {\n    await run({ w: 1, h: 1 });\n  });\n});`,
      '',
    ].join('\n'),
  },
  'libs/alpha/src/index.ts': { expect: [], text: `export { run } from './clean.js';\n` },
  'libs/beta/src/undeclared.ts': {
    expect: ['import-x/no-extraneous-dependencies'],
    text: `import { run } from '@tangerine/alpha';\nexport const again = run;\n`,
  },
  'libs/beta/src/internal.ts': { expect: [], text: `export const secret = 42;\n` },
  'libs/beta/src/index.ts': { expect: [], text: `export { secret } from './internal.js';\n` },
};

describe('eslint.config.js on planted violations', () => {
  let dir = '';
  /** @type {Map<string, string[]>} rules reported, by planted path */
  const reported = new Map();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tangerine-lint-'));
    cpSync(join(root, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
    // The repository's node_modules gives the fixture @types/node; each package is linked as a workspace is.
    mkdirSync(join(dir, 'node_modules', '@tangerine'), { recursive: true });
    for (const entry of ['@types', 'typescript']) symlinkSync(join(root, 'node_modules', entry), join(dir, 'node_modules', entry));
    for (const name of ['alpha', 'beta']) symlinkSync(join(dir, 'libs', name), join(dir, 'node_modules', '@tangerine', name));
    for (const name of ['alpha', 'beta']) {
      const pkg = join(dir, 'libs', name);
      mkdirSync(join(pkg, 'src'), { recursive: true });
      cpSync(join(root, 'libs', 'bus', 'tsconfig.json'), join(pkg, 'tsconfig.json'));
      const dependencies = name === 'alpha' ? { '@tangerine/beta': '*' } : {};
      const manifest = { name: `@tangerine/${name}`, type: 'module', exports: { '.': './src/index.ts' }, dependencies };
      writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest));
    }
    for (const [path, { text }] of Object.entries(planted)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const eslint = new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: lintConfig(dir) });
    for (const result of await eslint.lintFiles(['libs'])) {
      const path = relative(dir, result.filePath);
      const fatal = result.messages.filter((m) => m.fatal || m.ruleId === null);
      assert.deepEqual(fatal.map((m) => m.message), [], `${path} must parse with type information`);
      reported.set(path, [...new Set(result.messages.map((m) => m.ruleId))].sort());
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lints every planted file', () => {
    assert.deepEqual([...reported.keys()].sort(), Object.keys(planted).sort());
  });

  for (const [path, { expect }] of Object.entries(planted)) {
    it(expect.length > 0 ? `${expect.join(', ')} fires on ${path}` : `nothing fires on ${path}`, () => {
      assert.deepEqual(reported.get(path), [...expect].sort());
    });
  }
});
