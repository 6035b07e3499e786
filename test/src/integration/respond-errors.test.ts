import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClosedConnectionError } from '@nats-io/transport-node';
import { connectBus, type Bus } from '@tangerine/bus';
import { Type } from '@sinclair/typebox';
import { LedgerRefusedError, NotFoundError, defineRequest, type ErrorReply } from '@tangerine/contracts';
import { respond } from '@tangerine/platform';
import { createLogger } from '@tangerine/runtime';
import { startNats, type NatsServer } from '../helpers/nats.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What a requester is told of each kind of error: its code, on the wire as `{"error": {code, message, field?}}`. */
describe('request/reply errors by their codes', () => {
  let nats: NatsServer;
  let bus: Bus;
  const log = createLogger('test', { level: 'silent', pretty: false });

  before(async () => {
    nats = await startNats();
    bus = await connectBus({ url: nats.url, name: 'respond-test', log });
    const throwers: Record<string, () => never> = {
      'errs.not-found': () => { throw new NotFoundError('name: no task named "x"', { field: 'name' }); },
      'errs.refused': () => { throw new LedgerRefusedError('23505', 'the ledger refused a statement (SQLSTATE 23505)'); },
      'errs.bus': () => { throw new ClosedConnectionError(); },
      'errs.bug': () => { throw new RangeError('Maximum call stack size exceeded'); },
    };
    // Test subjects of any body: the errors are the point, not a request's schema.
    const anyRequest = (subject: string) => defineRequest(subject, Type.Unknown(), Type.Unknown());
    for (const [subject, thrower] of Object.entries(throwers)) respond({ bus, log }, anyRequest(subject), 'q', async () => thrower());
    respond({ bus, log }, anyRequest('errs.echo'), 'q', async (body) => body);
  });
  after(async () => {
    await bus.close();
    await nats.stop();
  });

  const ask = async (subject: string, body: string): Promise<unknown> =>
    JSON.parse(dec.decode((await bus.nc.request(subject, enc.encode(body), { timeout: 5000 })).data));

  const cases: [string, string, string, ErrorReply['error']['code'], string | undefined][] = [
    ['a coded error as it is, with its field', 'errs.not-found', '{}', 'not_found', 'name'],
    ['a refusal of the ledger as ledger_refused (once invalid_request)', 'errs.refused', '{}', 'ledger_refused', undefined],
    ['the NATS client\'s closed connection as bus_unavailable', 'errs.bus', '{}', 'bus_unavailable', undefined],
    ['an error nobody foresaw as internal (once ledger_unavailable)', 'errs.bug', '{}', 'internal', undefined],
    ['a body that is not JSON as invalid_json', 'errs.echo', '{nope', 'invalid_json', 'payload'],
  ];
  for (const [label, subject, body, code, field] of cases) {
    it(label, async () => {
      const reply = await ask(subject, body) as ErrorReply;
      assert.equal(reply.error.code, code);
      assert.equal(reply.error.field, field);
      assert.ok(reply.error.message.length > 0);
      assert.deepEqual(Object.keys(reply.error).sort(), field === undefined ? ['code', 'message'] : ['code', 'field', 'message']);
    });
  }

  it('an unforeseen error\'s details stay in the log, not in the reply', async () => {
    const reply = await ask('errs.bug', '{}') as ErrorReply;
    assert.doesNotMatch(reply.error.message, /Maximum call stack/);
  });
});
