// ESLint for the whole repository (`npm run lint`, run by `npm test` before the suites). A focused rule set: the
// bugs the compiler does not catch (a promise nobody awaits, a promise handed where a callback's result is
// ignored), type-only imports written as such, and the package boundaries (no import cycles, no deep or relative
// imports into another package). No style rules: formatting is the code's own.
//
// `lintConfig(root)` builds the configuration for a tree laid out like this one; scripts/lint.test.mjs runs it
// on planted sources to prove each rule fires.
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

const typescript = ['libs/*/src/**/*.ts', 'services/*/src/**/*.ts', 'cli/src/**/*.ts', 'test/src/**/*.ts'];
const javascript = ['scripts/*.mjs', 'eslint.config.js'];
const projects = ['libs/*/tsconfig.json', 'services/*/tsconfig.json', 'cli/tsconfig.json', 'test/tsconfig.json'];

/** @param {string} root the repository's root directory */
export function lintConfig(root) {
  return tseslint.config(
    { ignores: ['**/dist/', '**/node_modules/', '**/.turbo/', 'bench-results/', '.tangerine/'] },
    {
      files: [...typescript, ...javascript],
      languageOptions: {
        parser: tseslint.parser,
        parserOptions: {
          // Each package's tsconfig.json gives the types; the scripts, in no project, get the base options.
          projectService: { allowDefaultProject: javascript, defaultProject: 'tsconfig.base.json' },
          tsconfigRootDir: root,
        },
      },
      linterOptions: { reportUnusedDisableDirectives: 'error' },
      plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
      settings: {
        // import-x follows only the extensions it is told of: without these, no-cycle skips every .ts file.
        'import-x/extensions': ['.ts', '.js', '.mjs'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
        // Resolves `./x.js` to `./x.ts` and `@tangerine/x` through the workspace link, as tsc does.
        'import-x/resolver-next': [createTypeScriptImportResolver({ project: projects.map((p) => `${root}/${p}`), noWarnOnMultipleProjects: true })],
      },
      rules: {
        // node:test's describe() and it() return promises that the runner itself awaits.
        '@typescript-eslint/no-floating-promises': [
          'error',
          { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
        ],
        '@typescript-eslint/no-misused-promises': 'error',
        '@typescript-eslint/await-thenable': 'error',
        // Cycles inside node_modules are not ours to fix.
        'import-x/no-cycle': ['error', { ignoreExternal: true }],
        // A package is imported by its name only: `@tangerine/x`, never a path inside it, nor a relative path
        // into another package's folder (which would bypass its exports and its build).
        'import-x/no-relative-packages': 'error',
        // Every package imported is declared in the importer's package.json, so turbo sees the whole package graph
        // and refuses a cycle between packages (no-cycle sees one only inside a package: siblings import dist/).
        'import-x/no-extraneous-dependencies': 'error',
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: '^@tangerine/[^/]+/',
                message: 'Import a Tangerine package by its name alone (`@tangerine/x`): add what you need to its index.',
              },
            ],
          },
        ],
      },
    },
    {
      files: typescript,
      rules: {
        '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
        '@typescript-eslint/consistent-type-exports': ['error', { fixMixedExportsWithInlineTypeSpecifier: true }],
      },
    },
  );
}

export default lintConfig(import.meta.dirname);
