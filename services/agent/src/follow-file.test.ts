import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { followFile } from './follow-file.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-follow-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sink(): { text: () => string; skipped: () => number; write: (b: Buffer) => void; skip: (n: number) => void } {
  let text = '';
  let skipped = 0;
  return { text: () => text, skipped: () => skipped, write: (b) => { text += b.toString(); }, skip: (n) => { skipped += n; } };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not within 5 s: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('followFile', () => {
  it('reads what is appended as it comes, and what is left at the stop', async () => {
    const file = path.join(dir, 'a.out');
    writeFileSync(file, 'one\n');
    const s = sink();
    const stop = followFile(file, s, 10);
    await until('the first line', () => s.text() === 'one\n');
    appendFileSync(file, 'two\n');
    await until('the second line', () => s.text() === 'one\ntwo\n');
    appendFileSync(file, 'three\n');
    stop();
    assert.equal(s.text(), 'one\ntwo\nthree\n', 'the stop reads what the last look did not');
    appendFileSync(file, 'late\n');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(s.text(), 'one\ntwo\nthree\n', 'nothing after the stop');
  });

  it('jumps over more than one read holds, and says how much', async () => {
    const file = path.join(dir, 'b.out');
    writeFileSync(file, `${'x'.repeat(100)}tail`);
    const s = sink();
    const stop = followFile(file, s, 10, 8);
    await until('the tail', () => s.text().length > 0);
    stop();
    assert.equal(s.text(), 'xxxxtail');
    assert.equal(s.skipped(), 96);
  });

  it('opens nothing for a run stopped before its first look, and lets a missing file be', async () => {
    const s = sink();
    followFile(path.join(dir, 'never.out'), s, 60_000)();
    const stop = followFile(path.join(dir, 'missing.out'), s, 5);
    await new Promise((r) => setTimeout(r, 30));
    stop();
    assert.equal(s.text(), '');
  });
});
