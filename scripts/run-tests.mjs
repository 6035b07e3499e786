// Runs the compiled test files with node's test runner: `unit` (pure, fast, in parallel), `e2e` (real NATS,
// PostgreSQL, Docker and service processes, one file at a time), or `all`. Extra arguments filter file names.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const [which = 'all', ...filters] = process.argv.slice(2);

function find(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) find(p, out);
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const packages = [...['libs', 'services'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(root, d, p, 'dist'))), join(root, 'cli', 'dist')];
const unit = packages.flatMap((d) => find(d));
const e2e = find(join(root, 'test', 'dist'));
const pick = (files) => files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();

// Every test file's process imports the leaked-handle check (test/src/helpers/leak-check.ts): a root `after` hook
// that fails the file if it leaves child processes, sockets, servers, timers or containers behind.
const leakCheck = join(root, 'test', 'dist', 'helpers', 'leak-check.js');

function run(files, concurrency) {
  if (files.length === 0) return 0;
  if (!existsSync(leakCheck)) {
    console.error(`${relative(root, leakCheck)} is missing: build first (npm run build)`);
    return 1;
  }
  console.log(`\n# ${files.length} test files: ${files.map((f) => relative(root, f)).join(' ')}\n`);
  const args = ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', '--import', pathToFileURL(leakCheck).href];
  const r = spawnSync(process.execPath, [...args, ...files], {
    stdio: 'inherit',
    cwd: root,
  });
  return r.status ?? 1;
}

let status = 0;
if (which === 'unit' || which === 'all') status ||= run(pick(unit), 2);
if (which === 'e2e' || which === 'all') status = run(pick(e2e), 1) || status;
if (pick(which === 'unit' ? unit : which === 'e2e' ? e2e : [...unit, ...e2e]).length === 0) {
  console.error('no test files found: build first (npm run build)');
  status = 1;
}
process.exit(status);
