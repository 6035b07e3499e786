import { readFileSync, statSync } from 'node:fs';
import Table from 'cli-table3';
import { createSpinner } from 'nanospinner';
import pc from 'picocolors';
import { stringify } from 'yaml';
import { ValidationError } from '@tangerine/contracts';
import type { TaskState } from '@tangerine/contracts';
import { FileLimits } from './documents.js';

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org) or TERM=dumb. */
export function colorsOn(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb';
}

export const color = pc.createColors(colorsOn(process.stdout, process.env));
const errColor = pc.createColors(colorsOn(process.stderr, process.env));

export function stateColor(state: TaskState | string): string {
  switch (state) {
    case 'success': return color.green(state);
    case 'failed': case 'blocked': return color.red(state);
    case 'cancelled': return color.yellow(state);
    case 'running': case 'placed': return color.cyan(state);
    default: return state;
  }
}

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function errorLine(message: string): void {
  err(`${errColor.red('error:')} ${message}`);
}

/** A table without borders, as `docker ps` prints one: columns two spaces apart. */
export function table(head: readonly string[], rows: readonly string[][]): string {
  const t = new Table({
    head: head.map((h) => color.bold(h)),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows.map((r) => [...r]));
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

export type Format = 'table' | 'json' | 'yaml';

export function print(format: Format, value: unknown): void {
  if (format === 'yaml') process.stdout.write(stringify(value));
  else out(JSON.stringify(value, null, 2));
}

/** A live line: a spinner on a terminal (stderr), plain lines otherwise, each change once. */
export class LiveLine {
  private readonly spinner = process.stderr.isTTY ? createSpinner('', { stream: process.stderr }) : null;
  private last = '';

  update(text: string): void {
    if (text === this.last) return;
    this.last = text;
    if (this.spinner) {
      if (!this.spinner.isSpinning()) this.spinner.start({ text });
      else this.spinner.update({ text });
    } else {
      err(text);
    }
  }

  end(ok: boolean, text: string): void {
    if (this.spinner) {
      if (ok) this.spinner.success({ text });
      else this.spinner.error({ text });
    } else if (text !== this.last) {
      err(text);
    }
    this.last = text;
  }
}

/** A file's text, or stdin's for `-`; a file that cannot be read is refused naming the option. */
export function readInput(file: string): string {
  // A file's size is checked before it is read: a mistaken path to a disk image is refused, not loaded.
  let size = 0;
  try {
    size = file === '-' ? 0 : statSync(file).size;
  } catch {
    // Left to the read below, which names the error.
  }
  if (size > FileLimits.bytes) {
    throw new ValidationError('invalid_request', `-f: ${JSON.stringify(file)} is larger than ${FileLimits.bytes} bytes`, { field: 'file' });
  }
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new ValidationError('invalid_request', `-f: cannot read ${file === '-' ? 'stdin' : JSON.stringify(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { field: 'file' });
  }
}
