import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveOutput, OutputMeter, type MeteredChunk } from './live-output.js';

const small = { chunkChars: 4, perSecond: 10 };

describe('OutputMeter: chunks and the rate bound', () => {
  const cases: { what: string; steps: ({ push: string } | { skip: number } | { take: number; want: MeteredChunk[] })[] }[] = [
    { what: 'nothing pushed gives nothing', steps: [{ take: 0, want: [] }] },
    { what: 'a short piece is one chunk at offset 0', steps: [{ push: 'ab' }, { take: 0, want: [{ offset: 0, data: 'ab' }] }] },
    {
      what: 'offsets go on from what was sent',
      steps: [{ push: 'ab' }, { take: 0, want: [{ offset: 0, data: 'ab' }] }, { push: 'cd' }, { take: 1000, want: [{ offset: 2, data: 'cd' }] }],
    },
    {
      what: 'a piece longer than a chunk is cut into chunks',
      steps: [{ push: 'abcdefghi' }, { take: 0, want: [{ offset: 0, data: 'abcd' }, { offset: 4, data: 'efgh' }, { offset: 8, data: 'i' }] }],
    },
    {
      what: 'more than a second\'s worth between takes: the oldest is skipped and said',
      steps: [{ push: 'abcdefghijkl' }, { take: 0, want: [{ offset: 2, data: 'cdef', skipped: 2 }, { offset: 6, data: 'ghij' }, { offset: 10, data: 'kl' }] }],
    },
    {
      what: 'the bucket refills with time: half a second later, half a second\'s worth',
      steps: [
        { push: '0123456789' }, { take: 0, want: [{ offset: 0, data: '0123' }, { offset: 4, data: '4567' }, { offset: 8, data: '89' }] },
        { push: 'abcdefgh' }, { take: 500, want: [{ offset: 13, data: 'defg', skipped: 3 }, { offset: 17, data: 'h' }] },
      ],
    },
    {
      what: 'bytes jumped over unread count as skipped, with what was pending',
      steps: [{ push: 'ab' }, { skip: 100 }, { push: 'z' }, { take: 0, want: [{ offset: 102, data: 'z', skipped: 102 }] }],
    },
    { what: 'a skip alone is said in an empty chunk', steps: [{ skip: 5 }, { take: 0, want: [{ offset: 5, data: '', skipped: 5 }] }] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const m = new OutputMeter(small);
      for (const s of c.steps) {
        if ('push' in s) m.push(s.push);
        else if ('skip' in s) m.skip(s.skip);
        else assert.deepEqual(m.take(s.take), s.want);
      }
      assert.equal(m.hasPending, false);
    });
  }

  it('sends at most perSecond characters a second, however much is pushed', () => {
    const m = new OutputMeter({ chunkChars: 16 * 1024, perSecond: 64 * 1024 });
    let sent = 0;
    let last = 0;
    for (let t = 0; t <= 10_000; t += 250) {
      m.push('x'.repeat(100_000));
      for (const c of m.take(t)) {
        sent += c.data.length;
        assert.ok(c.data.length <= 16 * 1024);
        assert.ok(c.offset >= last, 'offsets never go back');
        last = c.offset + c.data.length;
      }
    }
    // A full bucket at the start, then 64 Ki a second for 10 s.
    assert.ok(sent <= 11 * 64 * 1024, `sent ${sent}`);
    assert.equal(last, 41 * 100_000, 'the offsets count every character, skipped or sent');
  });
});

describe('LiveOutput: the timer and the end', () => {
  it('sends nothing and arms nothing for a run that prints nothing', () => {
    const sent: MeteredChunk[] = [];
    const live = new LiveOutput((c) => sent.push(c));
    live.end();
    assert.deepEqual(sent, []);
  });

  it('keeps a character split across two reads whole, and sends what is pending at the end', () => {
    const sent: MeteredChunk[] = [];
    const live = new LiveOutput((c) => sent.push(c), () => 0, { chunkChars: 100, perSecond: 1000 }, 60_000);
    const euro = Buffer.from('€ ok\n');
    live.write(euro.subarray(0, 2));
    live.write(euro.subarray(2));
    live.end();
    assert.deepEqual(sent, [{ offset: 0, data: '€ ok\n' }]);
    live.write(Buffer.from('late'));
    assert.equal(sent.length, 1, 'nothing is sent after the end');
  });

  it('sends output within its interval while the run goes on', async () => {
    const sent: MeteredChunk[] = [];
    const live = new LiveOutput((c) => sent.push(c), Date.now, undefined, 10);
    live.write(Buffer.from('line 1\n'));
    const deadline = Date.now() + 2000;
    while (sent.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [{ offset: 0, data: 'line 1\n' }]);
    live.end();
  });
});
