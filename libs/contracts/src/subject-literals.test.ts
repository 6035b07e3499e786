import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { findSubjectLiterals } from './subject-literals.js';

/** From libs/contracts/dist/ (where the compiled test runs) up to the repository. */
const root = new URL('../../../', import.meta.url).pathname;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

describe('no subject strings outside libs/contracts', () => {
  const cases: [string, string, string[]][] = [
    ['a subject compared', `if (subject === 'tasks.submit') go();`, ['tasks.submit']],
    ['a subject in double quotes', `nc.subscribe("hosts.announce");`, ['hosts.announce']],
    ['a subject made by hand', 'const s = `agents.${host}.run`;', ['agents.*.run']],
    ['a wildcard', `filter: 'tasks.events.*.success',`, ['tasks.events.*.success']],
    ['a prefix', `if (m.subject.startsWith('runs.')) x();`, ['runs.']],
    ['how a subject ends', `if (m.subject.endsWith('.run')) x();`, ['.run']],
    ['how a subject ends, after a token', 'const s = `${prefix}.exited`;', ['*.exited']],
    ['a subject inside a template\'s substitution', 'log(`to ${f(\'tasks.cancel\')}`);', ['tasks.cancel']],
    ['a subject as a type', `type S = 'runs.*.started';`, ['runs.*.started']],
    ['a family\'s member spelled out', `nc.publish('runs.h1.exited', data);`, ['runs.h1.exited']],
    ['a dedupe id made by hand', 'const id = `run:${name}:${attempt}`;', ['run:*:*']],
    ['a dedupe id begun by hand', 'const id = `exited:${key}`;', ['exited:*']],
    ['the event id made by hand', 'msgId: `${e.name}:${e.version}:${e.state}`', ['*:*:*']],
    ['a host event id made by hand', 'msgId: `host:${h.host}:${h.state}:${h.at}`', ['host:*:*:*']],
  ];
  for (const [label, source, texts] of cases) {
    it(`finds ${label}`, () => assert.deepEqual(findSubjectLiterals(source).map((f) => f.text), texts));
  }

  const allowed: [string, string][] = [
    ['a subject in a line comment', `// reads tasks.submit\nconst a = 1;`],
    ['a subject in a doc comment', `/** Serves \`tasks.get\` and hosts.list. */\nfunction f() {}`],
    ['a subject in a regular expression', `const r = /tasks\\.submit 'x'/;`],
    ['a sentence that names a subject', `throw new Error('tasks. Then something');`],
    ['a subject from the definitions', `nc.subscribe(Subjects.hostAnnounce.subject);`],
    ['a file name', `import { x } from './runs.js';`],
    ['a message that starts like a dedupe id', 'throw new E(`host: no host named "${host}"`);'],
    ['a key of two parts', 'done.set(`${event.name}:${event.attempt}`, now);'],
    ['a table\'s column that starts like a subject', `const field = 'tasks.spec.image';`],
    ['a JetStream API subject', 'nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`);'],
  ];
  for (const [label, source] of allowed) {
    it(`allows ${label}`, () => assert.deepEqual(findSubjectLiterals(source), []));
  }

  it('gives the line of each', () => {
    assert.deepEqual(findSubjectLiterals(`const a = 1;\n\nconst s = 'runs.h1.exited';\n`), [{ line: 3, text: 'runs.h1.exited', rule: 'subject' }]);
  });

  const files = ['libs', 'services'].flatMap((d) => readdirSync(join(root, d))
    .filter((p) => !(d === 'libs' && p === 'contracts'))
    .flatMap((p) => {
      const src = join(root, d, p, 'src');
      try {
        return sources(src);
      } catch {
        return [];
      }
    }));

  it('looks at the services and the libraries', () => {
    // A wrong root would find no file and pass for nothing.
    assert.ok(files.some((f) => f.endsWith('services/intake/src/commands.ts')), `${files.length} files under ${root}`);
    assert.ok(files.some((f) => f.endsWith('libs/bus/src/publish.ts')));
    assert.ok(!files.some((f) => f.includes('libs/contracts/')));
  });

  it('finds none in libs/*/src and services/*/src', () => {
    const found = files.flatMap((f) => findSubjectLiterals(readFileSync(f, 'utf8'), f)
      .map((l) => `${relative(root, f)}:${l.line}: ${l.rule} '${l.text}' (take it from Subjects or DedupeIds in libs/contracts)`));
    assert.deepEqual(found, []);
  });

  it('fails a tree with one planted', () => {
    const planted = readFileSync(join(root, 'services/agent/src/messages.ts'), 'utf8')
      .replace('m.subject === Subjects.agentRun.make(host)', "m.subject.endsWith('.run')");
    assert.deepEqual(findSubjectLiterals(planted).map((f) => f.text), ['.run']);
  });
});
