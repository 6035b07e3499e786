import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers } from '@nats-io/transport-node';
import { ackProblem } from './publisher.js';

const enc = new TextEncoder();

function status(code: number, description: string): ReturnType<typeof headers> {
  return headers(code, description);
}

describe('ackProblem: was the message stored?', () => {
  const cases: [string, Parameters<typeof ackProblem>[0], string | null][] = [
    ['a publish ack', { data: enc.encode('{"stream":"S","seq":4}'), headers: undefined }, null],
    ['a duplicate, dropped by its id', { data: enc.encode('{"stream":"S","seq":4,"duplicate":true}'), headers: undefined }, null],
    ['a JetStream error', { data: enc.encode('{"error":{"code":503,"description":"insufficient resources"}}'), headers: undefined }, 'insufficient resources'],
    ['a JetStream error with its code', { data: enc.encode('{"error":{"code":503,"err_code":10077,"description":"maximum bytes exceeded"}}'), headers: undefined }, 'maximum bytes exceeded (JetStream 10077)'],
    ['null', { data: enc.encode('null'), headers: undefined }, 'not a publish ack'],
    ['no stream captures the subject', { data: new Uint8Array(), headers: status(503, 'No Responders') }, 'status 503 No Responders'],
    ['an empty answer', { data: new Uint8Array(), headers: undefined }, 'empty answer'],
    ['something else', { data: enc.encode('hello'), headers: undefined }, 'not a publish ack'],
    ['JSON that is no ack', { data: enc.encode('{"ok":true}'), headers: undefined }, 'not a publish ack'],
  ];
  for (const [label, msg, problem] of cases) {
    it(`${label} → ${problem ?? 'stored'}`, () => assert.equal(ackProblem(msg), problem));
  }
});
