import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProviderError } from '../provider.js';
import { spotFleetConfig } from './spot-fleet-config.js';
import { redact, toProviderError } from './spot-fleet-errors.js';

const SECRETS = ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'FwoGZXIvYXdzEXAMPLETOKEN'];

describe('toProviderError', () => {
  const cases: { what: string; err: unknown; code: string; retryable: boolean }[] = [
    { what: 'EC2 throttling', err: { name: 'RequestLimitExceeded', message: 'Request limit exceeded.', $fault: 'client', $metadata: { httpStatusCode: 503 } }, code: 'RequestLimitExceeded', retryable: true },
    { what: 'generic throttling', err: { name: 'Throttling', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }, code: 'Throttling', retryable: true },
    { what: 'no capacity', err: { name: 'InsufficientInstanceCapacity', message: 'no capacity', $fault: 'server' }, code: 'InsufficientInstanceCapacity', retryable: true },
    { what: 'an unknown server fault', err: { name: 'SomethingNew', message: 'x', $fault: 'server', $metadata: { httpStatusCode: 500 } }, code: 'SomethingNew', retryable: true },
    { what: 'bad credentials', err: { name: 'AuthFailure', message: 'AWS was not able to validate', $fault: 'client', $metadata: { httpStatusCode: 401 } }, code: 'AuthFailure', retryable: false },
    { what: 'an unknown fleet', err: { name: 'InvalidSpotFleetRequestId.NotFound', message: 'does not exist', $fault: 'client' }, code: 'InvalidSpotFleetRequestId.NotFound', retryable: false },
    { what: 'no permission', err: { name: 'UnauthorizedOperation', message: 'not authorized', $fault: 'client' }, code: 'UnauthorizedOperation', retryable: false },
    { what: 'a refused connection', err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), code: 'ECONNREFUSED', retryable: true },
    { what: 'the SDK\'s timeout', err: Object.assign(new Error('timed out'), { name: 'TimeoutError' }), code: 'TimeoutError', retryable: true },
    { what: 'no credentials at all', err: Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), code: 'CredentialsProviderError', retryable: false },
    { what: 'a thrown string', err: 'boom', code: 'Error', retryable: false },
  ];
  for (const c of cases) {
    it(`${c.what} → ${c.code}, ${c.retryable ? 'retryable' : 'not retryable'}`, () => {
      const e = toProviderError('DescribeSpotFleetRequests', c.err, SECRETS);
      assert.ok(e instanceof ProviderError);
      assert.equal(e.code, c.code);
      assert.equal(e.retryable, c.retryable);
      assert.match(e.message, new RegExp(`^EC2 DescribeSpotFleetRequests failed: ${c.code.replace('.', '\\.')}`));
    });
  }

  it('keeps a ProviderError as it is', () => {
    const given = new ProviderError('SpotFleetNotActive', 'cancelled', false);
    assert.equal(toProviderError('X', given, SECRETS), given);
  });

  it('cuts the credentials in use and anything shaped like a key id from the message', () => {
    const e = toProviderError('TerminateInstances', { name: 'AuthFailure', message: `key ${SECRETS[0]} secret ${SECRETS[1]} token ${SECRETS[2]} other ASIAZZZZZZZZZZZZZZZZ` }, SECRETS);
    for (const s of [...SECRETS, 'ASIAZZZZZZZZZZZZZZZZ']) assert.ok(!e.message.includes(s), s);
    assert.equal(e.message.match(/\[redacted\]/g)?.length, 4);
  });

  it('bounds the message', () => {
    assert.ok(redact('x'.repeat(10_000), []).length <= 501);
  });
});

describe('Spot Fleet settings', () => {
  it('defaults: no fleet, a limit of 20, three tries', () => {
    const cfg = spotFleetConfig.compile({});
    assert.deepEqual(cfg, { spotFleetRequestId: null, spotFleetLabels: {}, ec2ScaleLimit: 20, awsRegion: null, awsDefaultRegion: null, ec2MaxAttempts: 3 });
  });

  const bad: [string, string, RegExp][] = [
    ['SPOT_FLEET_REQUEST_ID', 'fleet-1', /SPOT_FLEET_REQUEST_ID.*must match/],
    ['EC2_SCALE_LIMIT', '0', /EC2_SCALE_LIMIT.*integer from 1 to 1000/],
    ['EC2_SCALE_LIMIT', '20abc', /EC2_SCALE_LIMIT/],
    ['AWS_DEFAULT_REGION', 'Ireland', /AWS_DEFAULT_REGION.*must match/],
    ['EC2_MAX_ATTEMPTS', '50', /EC2_MAX_ATTEMPTS.*integer from 1 to 10/],
  ];
  for (const [variable, value, rule] of bad) {
    it(`refuses ${variable}=${value}, naming the variable and the rule`, () => {
      assert.throws(() => spotFleetConfig.compile({ [variable]: value }), rule);
    });
  }

  it('takes a fleet id and a region', () => {
    const cfg = spotFleetConfig.compile({ SPOT_FLEET_REQUEST_ID: 'sfr-73fbd2ce-aa30-494c-8788-1cee4ea1b2c3', AWS_DEFAULT_REGION: 'us-gov-west-1', EC2_SCALE_LIMIT: '50' });
    assert.equal(cfg.spotFleetRequestId, 'sfr-73fbd2ce-aa30-494c-8788-1cee4ea1b2c3');
    assert.equal(cfg.awsDefaultRegion, 'us-gov-west-1');
    assert.equal(cfg.ec2ScaleLimit, 50);
  });
});
