import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DedupeIds, ErrorCodes, Streams, Subjects, TASK_STATES, parseTaskSpec, type TaskState } from '@tangerine/contracts';
import { ROOT } from '../helpers/processes.js';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The README is the user's first contract: its examples must be accepted and its tables complete. */
describe('README', () => {
  it('starts with the two commands', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.match(firstBlock, /^npm start\b/m);
    assert.match(firstBlock, /^npm test\b/m);
  });

  const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
  it('has task spec examples', () => assert.ok(examples.length >= 6));
  for (const example of examples) {
    const spec = JSON.parse(example) as { name: string };
    it(`accepts the example "${spec.name}"`, () => {
      assert.equal(parseTaskSpec(spec).name, spec.name);
    });
  }
  it('shows the nats pub example as a valid spec', () => {
    const pub = /nats pub tasks\.submit '([^']+)'/.exec(readme)?.[1];
    assert.ok(pub);
    assert.equal(parseTaskSpec(JSON.parse(pub)).name, 'whoami');
  });

  it('documents every state, public subject and stream', () => {
    for (const state of TASK_STATES) assert.match(readme, new RegExp(`\\| \`${state}\` \\|`), state);
    for (const s of [Subjects.submit, Subjects.cancel, Subjects.rejected, Subjects.get, Subjects.list, Subjects.runs, Subjects.output, Subjects.hostsList]) {
      assert.ok(readme.includes(`\`${s.subject}\``), s.subject);
    }
    for (const f of [Subjects.deadLetters, Subjects.fleetEvents]) {
      const documented = f.wildcard.replace('.>', '.<');
      assert.ok(readme.includes(`\`${documented}`), f.wildcard);
    }
    for (const stream of Object.values(Streams)) assert.ok(readme.includes(stream.name), stream.name);
  });

  it('documents the event id that is sent', () => {
    const documented = /`tasks\.events\.<name>\.<state>`.*dedupe id `([^`]+)`/.exec(readme)?.[1];
    assert.equal(documented, DedupeIds.event({ name: '<name>', version: '<version>' as unknown as number, state: '<state>' as TaskState }));
  });

  it('documents every environment variable the services read', () => {
    // Every setting is declared with `setting('NAME', …)`: the shared ones in libs/runtime, each service's own in its
    // src/config.ts.
    const services = readdirSync(path.join(ROOT, 'services')).map((d) => path.join('services', d, 'src/config.ts'));
    const files = ['libs/runtime/src/config.ts', ...services].filter((f) => existsSync(path.join(ROOT, f)));
    const declared = files.map((f) => readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
    const vars = new Set([...declared.matchAll(/\bsetting(?:<[^>]*>)?\('([A-Z_]+)'/g)].map((m) => m[1]!));
    assert.ok(vars.size >= 29, `only ${vars.size} settings found`);
    for (const v of vars) assert.ok(readme.includes(`\`${v}\``), `${v} is not in the README`);
  });

  it('documents every error code, with its family, and no code that is not in the registry', () => {
    const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('\n## ', readme.indexOf('## Errors') + 1));
    const rows = [...section.matchAll(/^\| `([a-z_]+)` \| ([a-z_]+) \| (.+) \|$/gm)].map((m) => ({ code: m[1]!, family: m[2]!, meaning: m[3]! }));
    assert.deepEqual(rows.map((r) => r.code).sort(), Object.keys(ErrorCodes).sort(), 'the table lists exactly the registry\'s codes');
    for (const r of rows) {
      assert.equal(r.family, ErrorCodes[r.code as keyof typeof ErrorCodes].family, `${r.code}: family`);
      assert.ok(r.meaning.trim().length > 10, `${r.code}: a meaning`);
    }
  });
});
