import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { InvalidRequestError, NoRespondersError, RequestTimeoutError, ServerError, WaitTimeoutError } from '@tangerine/client';
import { StartupError, UnprocessableError, ValidationError } from '@tangerine/contracts';
import { describeError, exitCodeOfError } from './errors.js';
import { ExitCodes } from './exit-codes.js';

describe('exitCodeOfError', () => {
  const table: [string, unknown, number][] = [
    ['--help', new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), ExitCodes.ok],
    ['an unknown option', new CommanderError(1, 'commander.unknownOption', 'unknown option'), ExitCodes.usage],
    ['a document that breaks a rule', new ValidationError('invalid_spec', 'f.yaml: kind: must be', { field: 'kind' }), ExitCodes.usage],
    ['a setting that breaks a rule', new StartupError('config_invalid', 'NATS_URL: must be a URL'), ExitCodes.usage],
    ['a template refused', new UnprocessableError('templates: not yet'), ExitCodes.usage],
    ['a request refused before sending', new InvalidRequestError('name', 'name: must match'), ExitCodes.usage],
    ['an unknown name', new ServerError({ code: 'not_found', message: 'no task named "x"', field: 'name' }), ExitCodes.failed],
    ['the ledger away', new ServerError({ code: 'ledger_unavailable', message: 'down' }), ExitCodes.unavailable],
    ['no service', new NoRespondersError({ subject: 'tasks.get' }), ExitCodes.unavailable],
    ['no answer in time', new RequestTimeoutError(5000, { subject: 'tasks.get' }), ExitCodes.unavailable],
    ['a wait given up', new WaitTimeoutError('task x: not within 1000 ms', null, {}), ExitCodes.unavailable],
    ['nats.js refusing the connection', new Error('connection refused'), ExitCodes.unavailable],
  ];
  for (const [what, err, want] of table) it(what, () => assert.equal(exitCodeOfError(err), want));
});

describe('describeError', () => {
  it('names a server error\'s subject, code and field', () => {
    assert.equal(describeError(new ServerError({ code: 'not_found', message: 'no task named "x"', field: 'name' }, { subject: 'tasks.get' })), 'tasks.get: not_found (name): no task named "x"');
  });
});

describe('the exit codes of cli/README.md', () => {
  it('are the constants, each documented once', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('\n## ', readme.indexOf('## Exit codes') + 1));
    const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    assert.deepEqual(documented.sort((a, b) => a - b), [...Object.values(ExitCodes)].sort((a, b) => a - b));
  });
});
