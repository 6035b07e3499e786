/**
 * Every bound on what a stranger sends, in one place. NATS refuses any message over its `max_payload` (1 MiB by
 * default); the limits below keep every message Tangerine derives from an input (a dispatch is the spec plus about
 * 400 bytes; an event or a rejection a few hundred) far under it.
 */
export const Limits = {
  /**
   * Bytes of one task spec as JSON. A fan-in of 10,000 dependencies with names of 20 characters is ~230 KiB;
   * a dispatch of the largest spec still fits four times in max_payload.
   */
  specBytes: 256 * 1024,
  /** Nesting of any JSON Tangerine reads (a spec needs 4: a list of specs, `environment`, a pair, a value). */
  jsonDepth: 16,
  /** Characters of any one string of a spec: an argument, an env value, a label value. */
  stringChars: 32 * 1024,
  /** Characters of a key: an env variable's name, a label's name. */
  keyChars: 256,
  envEntries: 1000,
  constraints: 64,
  commandItems: 1000,
  entrypointItems: 100,
  volumes: 100,
  volumeChars: 4096,
  dependencies: 10_000,
  /** Specs in one `tasks.submit` message (the batch form). */
  specsPerMessage: 1000,
  /** Bytes of a run's output the agent keeps and reports: its last 64 KiB. */
  outputBytes: 64 * 1024,
  /** Characters of a live output chunk (`output.<host>.<name>.<attempt>`), at most: 16 Ki. */
  outputChunkChars: 16 * 1024,
  /** Characters of live output one run sends per second, at most; beyond it the agent skips ahead and says so. */
  outputCharsPerSecond: 64 * 1024,
  /** Tasks in one `tasks.list` page and hosts in one `hosts.list` page; a larger `limit` is taken as this. */
  pageItems: 1000,
  /** Runs `tasks.get` carries (the latest), and the most one `tasks.runs` page carries. */
  runsPerTask: 10,
  runsPerPage: 50,
  /** Characters of output each run carries in `tasks.get` and `tasks.runs`: its tail. `tasks.output` gives all. */
  outputPreviewChars: 4096,
  /** Runs `hosts.list` names per host; `running_count` gives them all. */
  runsPerHost: 1000,
  /** Tasks of one workflow graph (`GET /v1/tasks/<name>/graph`): the nearest ones, breadth first, beyond it. */
  graphNodes: 5000,
  /** Label sets the overview lists of ready tasks (the largest groups). */
  overviewLabelSets: 50,
  /** Tasks of one `GET /v1/schedule` answer; a larger `limit` is taken as this. */
  scheduleItems: 1000,
  /** Characters of a template's `description`. */
  templateDescriptionChars: 1024,
  /** Templates in one `templates.list` page; a larger `limit` is taken as this. */
  templatesPerPage: 1000,
  /** Files of one task (its `files`), and the bytes of a file's name (a plain name: no `/`, not `.` or `..`). */
  filesPerTask: 32,
  fileNameBytes: 255,
  /** Bytes of one file, and of all the files of one task, unless FILES_MAX_BYTES and FILES_MAX_TOTAL say otherwise. */
  fileBytes: 64 * 1024 * 1024,
  filesTotalBytes: 256 * 1024 * 1024,
  /** Bytes of a payload quoted in a rejection or a dead letter. */
  quotedPayloadChars: 512,
} as const;

/**
 * Is `value` nested deeper than `max`? Iterative, so a hostile depth cannot overflow the stack, and it stops at
 * the first level over the bound.
 */
export function nestsDeeper(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** UTF-8 bytes of a string, without encoding it. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
