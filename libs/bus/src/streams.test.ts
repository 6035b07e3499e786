import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamInfo } from '@nats-io/jetstream';
import { FILES_STREAM, Streams, Subjects, subjectMatches } from '@tangerine/contracts';
import { DEFAULT_EVENTS_MAX_BYTES, DEFAULT_WORK_QUEUE_MAX_BYTES, OUTPUT_MAX_CONSUMERS, planStreamUpdate, streamSpecs, type StreamSpec } from './streams.js';

const DAY_NS = 86400 * 1_000_000_000;
const MiB = 1024 ** 2;

function spec(name: string, limits: Parameters<typeof streamSpecs>[0] = {}): StreamSpec {
  const found = streamSpecs(limits).find((s) => s.name === name);
  assert.ok(found, name);
  return found;
}

/** An existing stream as NATS describes it: as wanted, but for `config` and the bytes it holds. */
function info(want: StreamSpec, config: Record<string, unknown>, bytes = 0): Pick<StreamInfo, 'config' | 'state'> {
  return {
    config: {
      name: want.name, subjects: want.subjects, retention: want.retention, storage: StorageType.File,
      max_age: want.max_age, discard: want.discard, max_bytes: want.max_bytes, ...config,
    } as StreamInfo['config'],
    state: { bytes } as StreamInfo['state'],
  };
}

describe('streamSpecs: the limits each stream is given', () => {
  it('work queues refuse what comes when full, events drop their oldest; the documented defaults', () => {
    const specs = streamSpecs();
    assert.deepEqual(specs.map((s) => [s.name, s.retention, s.discard, s.max_bytes, s.max_age / DAY_NS, s.explicit]), [
      [Streams.commands.name, RetentionPolicy.Workqueue, DiscardPolicy.New, DEFAULT_WORK_QUEUE_MAX_BYTES, 30, false],
      [Streams.dispatch.name, RetentionPolicy.Workqueue, DiscardPolicy.New, DEFAULT_WORK_QUEUE_MAX_BYTES, 7, false],
      [Streams.reports.name, RetentionPolicy.Workqueue, DiscardPolicy.New, DEFAULT_WORK_QUEUE_MAX_BYTES, 7, false],
      [Streams.events.name, RetentionPolicy.Limits, DiscardPolicy.Old, DEFAULT_EVENTS_MAX_BYTES, 7, false],
      [Streams.dead.name, RetentionPolicy.Limits, DiscardPolicy.Old, 64 * MiB, 30, false],
      [Streams.output.name, RetentionPolicy.Limits, DiscardPolicy.Old, 128 * MiB, 1, false],
      [FILES_STREAM, RetentionPolicy.Limits, DiscardPolicy.New, 1024 * MiB, 0, false],
    ]);
    assert.equal(DEFAULT_WORK_QUEUE_MAX_BYTES, 268435456);
    assert.equal(DEFAULT_EVENTS_MAX_BYTES, 2147483648);
    assert.deepEqual(specs.map((s) => s.max_consumers), [undefined, undefined, undefined, undefined, undefined, 1000, undefined], 'only the live output, which any submitter may follow, bounds its consumers');
    const output = spec(Streams.output.name).subjects;
    assert.ok(output.some((f) => subjectMatches(f, Subjects.liveOutput.make('any-host', 'a-task', 3))), 'every run\'s live output, whichever host');
  });

  it('STREAM_MAX_BYTES sets every work queue, EVENTS_MAX_BYTES the events stream, FILES_STORE_MAX_BYTES the files', () => {
    const specs = streamSpecs({ workQueueMaxBytes: 8 * MiB, eventsMaxBytes: 16 * MiB, filesStoreMaxBytes: 32 * MiB });
    assert.deepEqual(specs.map((s) => [s.max_bytes, s.explicit]),
      [[8 * MiB, true], [8 * MiB, true], [8 * MiB, true], [16 * MiB, true], [64 * MiB, false], [128 * MiB, false], [32 * MiB, true]]);
    const files = specs.find((s) => s.name === FILES_STREAM);
    assert.deepEqual([files?.subjects, files?.allow_rollup_hdrs, files?.allow_direct], [['$O.tangerine_files.C.>', '$O.tangerine_files.M.>'], true, true]);
  });
});

describe('planStreamUpdate: what an existing stream gets', () => {
  const commands = spec(Streams.commands.name);
  const events = spec(Streams.events.name);
  const output = spec(Streams.output.name);
  const cases: [string, Pick<StreamInfo, 'config' | 'state'>, StreamSpec, Record<string, unknown> | null, RegExp[]][] = [
    ['a stream as wanted: nothing', info(commands, {}), commands, null, []],
    ['a stream of the release before (no limit, discard old): limit and discard',
      info(commands, { max_bytes: -1, discard: DiscardPolicy.Old }), commands,
      { max_bytes: DEFAULT_WORK_QUEUE_MAX_BYTES, discard: DiscardPolicy.New }, []],
    ['the events stream of the release before (2 GiB, discard old): nothing', info(events, {}), events, null, []],
    ['a missing subject and another max_age', info(commands, { subjects: [Subjects.submit.subject], max_age: 0 }), commands,
      { subjects: [...Streams.commands.subjects], max_age: 30 * DAY_NS }, []],
    ['the same subjects in another order: nothing', info(commands, { subjects: [...Streams.commands.subjects].reverse() }), commands, null, []],
    ['a limit an operator set, variable unset here: left as it is', info(commands, { max_bytes: 5 * MiB }), commands, null, []],
    ['a limit an operator set, another one asked for: the one asked for',
      info(commands, { max_bytes: 5 * MiB }), spec(Streams.commands.name, { workQueueMaxBytes: 50 * MiB }), { max_bytes: 50 * MiB }, []],
    ['a work queue lowered while it holds under half the new limit: lowered',
      info(commands, { max_bytes: 50 * MiB }, 2 * MiB), spec(Streams.commands.name, { workQueueMaxBytes: 5 * MiB }), { max_bytes: 5 * MiB }, []],
    ['a work queue lowered while it holds more than half: kept, and said why',
      info(commands, { max_bytes: 50 * MiB }, 3 * MiB), spec(Streams.commands.name, { workQueueMaxBytes: 5 * MiB }), null,
      [/max_bytes stays 52428800 for now: the stream holds 3145728 bytes, more than half of 5242880/]],
    ['a work queue without a limit that holds more than half the default: discard changes, the limit waits',
      info(commands, { max_bytes: -1, discard: DiscardPolicy.Old }, DEFAULT_WORK_QUEUE_MAX_BYTES), commands,
      { discard: DiscardPolicy.New }, [/max_bytes stays unlimited for now/]],
    ['the events stream lowered however full it is (its oldest events may go)',
      info(events, {}, DEFAULT_EVENTS_MAX_BYTES - 1), spec(Streams.events.name, { eventsMaxBytes: 64 * MiB }), { max_bytes: 64 * MiB }, []],
    ['a work queue raised however full it is', info(commands, { max_bytes: 5 * MiB }, 5 * MiB),
      spec(Streams.commands.name, { workQueueMaxBytes: 50 * MiB }), { max_bytes: 50 * MiB }, []],
    ['the live output with its bound on consumers: nothing', info(output, { max_consumers: OUTPUT_MAX_CONSUMERS }), output, null, []],
    ['the live output of the release before (no bound on consumers): noted, never updated (NATS refuses; bus migration 2 remakes it)',
      info(output, { max_consumers: -1 }), output, null, [/max_consumers is unlimited, not 1000: NATS sets it only when a stream is made/]],
    ['retention and storage NATS cannot change: noted, never changed',
      info(commands, { retention: RetentionPolicy.Limits, storage: StorageType.Memory }), commands, null,
      [/retention is limits, not workqueue: NATS cannot change it/, /storage is memory, not file/]],
  ];
  for (const [label, existing, want, update, notes] of cases) {
    it(label, () => {
      const plan = planStreamUpdate(existing, want);
      assert.deepEqual(plan.update, update);
      assert.equal(plan.notes.length, notes.length, plan.notes.join('; '));
      notes.forEach((n, i) => assert.match(plan.notes[i]!, n));
    });
  }
});
