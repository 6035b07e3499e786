import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nkeys } from '@nats-io/transport-node';
import { accessOptions, describeIdentity, natsAccess, type NatsAccessSettings } from './access.js';

const NONE: NatsAccessSettings = {
  natsNkey: null, natsUser: null, natsPassword: null, natsToken: null, natsCreds: null, natsTlsCa: null, natsTlsCert: null, natsTlsKey: null,
  natsInboxPrefix: '_INBOX',
};
const user = nkeys.createUser();
const seed = new TextDecoder().decode(user.getSeed());

describe('natsAccess: the compiled settings → credentials, TLS, inbox prefix', () => {
  const cases: [string, Partial<NatsAccessSettings>, string, unknown][] = [
    ['nothing', {}, 'a connection without credentials', null],
    ['an nkey', { natsNkey: seed }, `nkey user ${user.getPublicKey()}`, null],
    ['a user', { natsUser: 'app', natsPassword: 'pw' }, 'user "app"', null],
    ['a token', { natsToken: 'tok' }, 'a token', null],
    ['a creds file', { natsCreds: '/run/secrets/a.creds' }, 'the user of the creds file /run/secrets/a.creds', null],
    ['a CA alone', { natsTlsCa: '/ca.pem' }, 'a connection without credentials', { caFile: '/ca.pem' }],
    ['a client certificate', { natsTlsCert: '/c.pem', natsTlsKey: '/k.pem' }, 'a connection without credentials', { certFile: '/c.pem', keyFile: '/k.pem' }],
  ];
  for (const [name, settings, identity, tls] of cases) {
    it(`${name}: ${identity}`, () => {
      const access = natsAccess({ ...NONE, ...settings });
      assert.equal(describeIdentity(access), identity);
      assert.deepEqual(access.tls, tls);
      const options = accessOptions(access);
      assert.equal(typeof options.authenticator, access.auth === null ? 'undefined' : 'function');
      assert.deepEqual(options.tls, tls ?? undefined);
      assert.equal(options.inboxPrefix, '_INBOX');
    });
  }

  it('an identity never holds the secret', () => {
    for (const settings of [{ natsNkey: seed }, { natsUser: 'app', natsPassword: 'hunter2' }, { natsToken: 'hunter2' }]) {
      const identity = describeIdentity(natsAccess({ ...NONE, ...settings }));
      assert.ok(!identity.includes('hunter2') && !identity.includes(seed), identity);
    }
  });

  it('the inbox prefix is passed on', () => assert.equal(accessOptions(natsAccess({ ...NONE, natsInboxPrefix: '_INBOX.h1' })).inboxPrefix, '_INBOX.h1'));
});
