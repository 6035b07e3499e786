import { Limits, isFinished, type OutputChunk, type TaskView } from '@tangerine/contracts';

/**
 * Whether the run `attempt` of this task may still print: it is the task's run and the task is `placed` or
 * `running`, or the task has not reached that attempt yet and is not finished (a retry waiting its delay).
 */
export function runGoesOn(view: Pick<TaskView, 'attempt' | 'state'>, attempt: number): boolean {
  if (view.attempt === attempt) return view.state === 'placed' || view.state === 'running';
  return view.attempt < attempt && !isFinished(view.state);
}

/**
 * Joins a run's chunks into one output, each character once: a chunk (or the part of one) at an offset already
 * given is dropped, and a chunk after a gap is taken as it is (the gap is output this reader never heard). Keeps
 * what it gave while that is the whole output from its start and no more than the ledger keeps, so the run's stored
 * output can complete it at the end (`rest`).
 */
export class OutputJoin {
  /** The offset after the last character given. */
  next = 0;
  /** Everything given, from offset 0 without a gap; null once there was a gap, or more than the ledger keeps. */
  private whole: string | null = '';

  /** The chunk to yield for this one (cut to its new part), or null when it holds nothing new. */
  add(chunk: OutputChunk): OutputChunk | null {
    const end = chunk.offset + chunk.data.length;
    if (end <= this.next) return null;
    const gap = chunk.offset > this.next || (chunk.skipped ?? 0) > 0;
    const data = chunk.offset < this.next ? chunk.data.slice(this.next - chunk.offset) : chunk.data;
    const offset = Math.max(chunk.offset, this.next);
    if (gap) this.whole = null;
    else if (this.whole !== null) this.whole = this.whole.length + data.length <= Limits.outputBytes ? this.whole + data : null;
    this.next = offset + data.length;
    return { ...chunk, offset, data };
  }

  /**
   * What the run's stored output (its last 64 KiB, read once it ended) adds to what was given: its part after what
   * was heard, when what was heard is its beginning; all of it when nothing was heard; else nothing.
   */
  rest(stored: string): { offset: number; data: string } | null {
    if (this.whole === null || !stored.startsWith(this.whole) || stored.length === this.whole.length) return null;
    return { offset: this.whole.length, data: stored.slice(this.whole.length) };
  }
}
