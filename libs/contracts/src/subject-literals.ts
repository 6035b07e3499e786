import ts from 'typescript';
import { DedupeIds } from './dedupe.js';
import { Subjects, Streams, subjectMatches } from './subjects.js';

/**
 * The "one place" check of subjects and dedupe ids (run by the unit tests over libs/ and services/): outside
 * libs/contracts no string in code (comments do not count) spells a subject, a piece of one (`'.run'`,
 * `'tasks.'`), or a dedupe id of the shapes DedupeIds makes. Senders and receivers take them from Subjects and
 * DedupeIds, so a subject or an id cannot drift between the two sides. Only for tests: it reads TypeScript with
 * the compiler's parser (a devDependency), which is what tells a string from a comment or a regular expression.
 */
export interface SubjectLiteral {
  line: number;
  /** The literal as written; a template's substitutions show as `*`. */
  text: string;
  rule: 'subject' | 'subject piece' | 'dedupe id';
}

/** Every subject and wildcard the definitions give. */
function definedSubjects(): string[] {
  const out: string[] = [];
  for (const d of Object.values(Subjects)) {
    if (typeof d === 'function') out.push((d as (token: string) => string)('*'));
    else if ('subject' in d) out.push(d.subject);
    else out.push(d.wildcard);
  }
  return out;
}

/** The definitions' subjects and the streams', in tokens. */
function knownSubjects(): string[][] {
  return [...definedSubjects(), ...Object.values(Streams).flatMap((s) => s.subjects)].map((s) => s.split('.'));
}

/** What each DedupeIds function makes, its arguments shown as `*`: `run:*:*`, `*:*:*`. */
function dedupeShapes(): Set<string> {
  // Stands for any argument: a string, a number, or an object whose every field is one.
  const any: unknown = new Proxy({}, { get: (_t, key) => (key === Symbol.toPrimitive ? () => '*' : any) });
  return new Set(Object.values(DedupeIds).map((make) => String((make as (...a: unknown[]) => string)(any, any, any))));
}

const TOKEN = /^[A-Za-z0-9_$*>-]*$/;

/** The literals of `source` (a .ts file's text) that spell a subject, a piece of one, or a dedupe id. */
export function findSubjectLiterals(source: string, fileName = 'source.ts'): SubjectLiteral[] {
  const subjects = knownSubjects();
  // Not the streams' `runs.>`: it would take `runs.task`, a column.
  const defined = definedSubjects();
  const roots = new Set(subjects.map((s) => s[0]!));
  // The second tokens under each root: `tasks.submit` is a subject, `tasks.spec` (a table's column) is not.
  const seconds = new Set(subjects.map((s) => `${s[0]!}.${s[1] ?? ''}`));
  const shapes = dedupeShapes();
  // `run:`, `exited:`: an id begun as one of them is, whatever follows (`exited:${key}`).
  const kinds = [...shapes].map((s) => s.slice(0, s.indexOf(':') + 1)).filter((k) => k !== '*:');
  const found: SubjectLiteral[] = [];
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);

  const judge = (text: string): SubjectLiteral['rule'] | null => {
    if (shapes.has(text) || kinds.some((k) => text.startsWith(`${k}*`))) return 'dedupe id';
    if (!text.includes('.')) return null;
    const tokens = text.split('.');
    if (!tokens.every((t) => TOKEN.test(t))) return null;
    // `tasks.submit`, `agents.*.run`, `tasks.`: starts as a subject does.
    const second = tokens[1]!;
    if (roots.has(tokens[0]!) && (second === '' || second === '*' || second === '>' || seconds.has(`${tokens[0]!}.${second}`))) return 'subject';
    // `runs.h1.exited`: one member of a family, spelled out.
    if (roots.has(tokens[0]!) && defined.some((f) => f.includes('*') && subjectMatches(f, text))) return 'subject';
    // `.run`, `*.exited`: how a subject ends.
    if ((tokens[0] === '' || tokens[0] === '*') && tokens.length >= 2) {
      const tail = tokens.slice(1);
      if (tail.every((t) => t !== '' && t !== '*') && subjects.some((s) => s.length > tail.length && tail.every((t, i) => s[s.length - tail.length + i] === t))) {
        return 'subject piece';
      }
    }
    return null;
  };
  const visit = (node: ts.Node): void => {
    let text: string | null = null;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateExpression(node)) text = node.head.text + node.templateSpans.map((s) => `*${s.literal.text}`).join('');
    if (text !== null) {
      const rule = judge(text);
      if (rule) found.push({ line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1, text, rule });
      if (ts.isTemplateExpression(node)) for (const s of node.templateSpans) visit(s.expression);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}
