/**
 * A reader for the YAML the deployment tests meet: deploy/docker-stack.yml itself and what `docker stack config`
 * prints. The repository has no YAML library and the tests add no dependency, so this reads a strict subset and
 * throws on anything else rather than guess:
 *   block mappings and sequences (indented with spaces), plain, 'single' and "double" quoted scalars, one-line
 *   flow collections ([a, "b"], {k: v}), comments, anchors (&a), aliases (*a) and merge keys (<<: *a).
 * Not read: block scalars (| and >), multi-line flow collections or plain scalars, tags, several documents.
 * Scalars stay strings (`2` is "2"); `null`, `~` and an empty value are null.
 */
export type Yaml = null | string | Yaml[] | { [key: string]: Yaml };
export type YamlMap = { [key: string]: Yaml };

interface Line {
  readonly no: number;
  indent: number;
  text: string;
}

export class YamlSubsetError extends Error {}

export function parseYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    if (/^\t| \t/.test(raw.match(/^[ \t]*/)?.[0] ?? '')) throw new YamlSubsetError(`line ${i + 1}: tab in indentation`);
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '' || (lines.length === 0 && text === '---')) return;
    if (text === '---' || text === '...') throw new YamlSubsetError(`line ${i + 1}: several documents`);
    const indent = text.length - text.trimStart().length;
    lines.push({ no: i + 1, indent, text: text.trimStart() });
  });
  const reader = new Reader(lines);
  if (lines.length === 0) return null;
  const value = reader.block(lines[0]!.indent);
  if (reader.pos < lines.length) reader.fail(lines[reader.pos]!, 'unexpected indentation');
  return value;
}

/** Drops a comment: `#` at the start or after a space, outside quotes. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'" && line[i + 1] === "'") i++;
      else if (c === "'") quote = null;
    } else if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = null;
    } else if ((c === "'" || c === '"') && (i === 0 || /[\s[{,:-]/.test(line[i - 1]!))) {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  if (quote) throw new YamlSubsetError(`unterminated quote (multi-line scalars are not read): ${line.trim()}`);
  return line;
}

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[A-Za-z0-9_.\/<$-][^:]*?)[ ]*:(?:[ ]+|$)/;

class Reader {
  pos = 0;
  private readonly anchors = new Map<string, Yaml>();

  constructor(private readonly lines: Line[]) {}

  fail(line: Line, why: string): never {
    throw new YamlSubsetError(`line ${line.no}: ${why}: ${line.text}`);
  }

  private peek(): Line | undefined {
    return this.lines[this.pos];
  }

  block(indent: number): Yaml {
    const line = this.peek();
    if (!line || line.indent !== indent) return null;
    return isItem(line.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): Yaml[] {
    const out: Yaml[] = [];
    for (let line = this.peek(); line && line.indent === indent && isItem(line.text); line = this.peek()) {
      const rest = line.text.slice(1).trimStart();
      if (rest === '' || /^&[^\s]+$/.test(rest)) {
        this.pos++;
        out.push(this.anchored(rest.slice(1), this.nested(indent, true)));
      } else if (KEY.test(rest)) {
        // "- key: value" opens a mapping whose keys line up with "key".
        line.indent = indent + (line.text.length - rest.length);
        line.text = rest;
        out.push(this.mapping(line.indent));
      } else {
        this.pos++;
        out.push(this.inline(rest, line));
        this.noDeeper(indent, line);
      }
    }
    return out;
  }

  private mapping(indent: number): YamlMap {
    const own: YamlMap = {};
    const merged: YamlMap[] = [];
    for (let line = this.peek(); line && line.indent === indent && !isItem(line.text); line = this.peek()) {
      const m = KEY.exec(line.text);
      if (!m) this.fail(line, 'expected "key: value"');
      const key = unquote(m[1]!, line, this);
      const rest = line.text.slice(m[0].length).trim();
      this.pos++;
      let value: Yaml;
      if (rest === '' || /^&[^\s]+$/.test(rest)) {
        value = this.anchored(rest.slice(1), this.nested(indent, false));
      } else {
        value = this.inline(rest, line);
        this.noDeeper(indent, line);
      }
      if (key === '<<') {
        for (const v of Array.isArray(value) ? value : [value]) {
          if (!isMap(v)) this.fail(line, 'a merge key takes a mapping or a list of mappings');
          merged.push(v);
        }
      } else {
        if (Object.prototype.hasOwnProperty.call(own, key)) this.fail(line, `duplicate key "${key}"`);
        own[key] = value;
      }
    }
    return Object.assign({}, ...merged.reverse(), own) as YamlMap;
  }

  /** The block under "key:" or "-": deeper lines, or for a mapping key a sequence at the same indentation. */
  private nested(indent: number, inSequence: boolean): Yaml {
    const next = this.peek();
    if (next && next.indent > indent) return this.block(next.indent);
    if (!inSequence && next && next.indent === indent && isItem(next.text)) return this.sequence(indent);
    return null;
  }

  private noDeeper(indent: number, line: Line): void {
    const next = this.peek();
    if (next && next.indent > indent) this.fail(next, `continues the value of line ${line.no} (multi-line scalars are not read)`);
  }

  private anchored(name: string, value: Yaml): Yaml {
    if (name) this.anchors.set(name, value);
    return value;
  }

  /** A value written on one line: scalar, flow collection, alias, or anchor + one of those. */
  inline(text: string, line: Line): Yaml {
    const t = text.trim();
    const anchor = /^&([^\s]+)\s+(.*)$/.exec(t);
    if (anchor) return this.anchored(anchor[1]!, this.inline(anchor[2]!, line));
    if (t.startsWith('*')) {
      if (!this.anchors.has(t.slice(1))) this.fail(line, `unknown alias ${t}`);
      return this.anchors.get(t.slice(1))!;
    }
    if (t.startsWith('[')) {
      if (!t.endsWith(']')) this.fail(line, 'a flow sequence must close on its line');
      return splitFlow(t.slice(1, -1), line, this).map((item) => this.inline(item, line));
    }
    if (t.startsWith('{')) {
      if (!t.endsWith('}')) this.fail(line, 'a flow mapping must close on its line');
      const out: YamlMap = {};
      for (const item of splitFlow(t.slice(1, -1), line, this)) {
        const m = KEY.exec(item);
        if (!m) this.fail(line, `expected "key: value" in a flow mapping, got "${item}"`);
        out[unquote(m[1]!, line, this)] = this.inline(item.slice(m[0].length), line);
      }
      return out;
    }
    if (/^[|>!%@`]/.test(t)) this.fail(line, 'block scalars, tags and reserved indicators are not read');
    if (t === '' || t === 'null' || t === '~') return null;
    if (t.startsWith("'") || t.startsWith('"')) return unquote(t, line, this);
    return t;
  }
}

function isItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

function isMap(v: Yaml | undefined): v is YamlMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unquote(text: string, line: Line, reader: Reader): string {
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) reader.fail(line, 'bad single-quoted scalar');
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text.startsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      reader.fail(line, 'bad double-quoted scalar');
    }
  }
  return text;
}

/** Splits the inside of a one-line flow collection at top-level commas. */
function splitFlow(inner: string, line: Line, reader: Reader): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote === "'") {
      if (c === "'" && inner[i + 1] === "'") i++;
      else if (c === "'") quote = null;
    } else if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      items.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  if (quote || depth !== 0) reader.fail(line, 'unbalanced flow collection');
  items.push(inner.slice(start));
  const trimmed = items.map((s) => s.trim());
  if (trimmed[trimmed.length - 1] === '') trimmed.pop();
  if (trimmed.some((s) => s === '')) reader.fail(line, 'empty item in a flow collection');
  return trimmed;
}
