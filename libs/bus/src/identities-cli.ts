#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { inboxPrefix } from '@tangerine/contracts';
import { addAgent, initIdentities, seedFile, writeAuthorization } from './identities.js';

/**
 * `npm run identities -- <command>`: Tangerine's NATS identities (see identities.ts).
 *   init <dir> [--host H]                  every service's identity, submitter, operator, admin; with --host, npm start's
 *   agent <dir> <host> [--public-key U…]   one agent's identity, bound to its host
 *   conf <dir>                             auth.conf again from identities.json
 * After `agent` or `conf`, reload nats-server (`nats-server --signal reload`, or SIGHUP) to apply auth.conf.
 */
const USAGE = 'usage: identities init <dir> [--host H] | agent <dir> <host> [--public-key U...] | conf <dir>';

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { host: { type: 'string' }, 'public-key': { type: 'string' } },
  });
  const [command, dir, host] = positionals;
  if (dir === undefined) return fail(USAGE);
  switch (command) {
    case 'init': {
      const entries = initIdentities(dir, values.host);
      for (const e of entries) process.stdout.write(`${e.name}\t${e.public_key}\n`);
      return 0;
    }
    case 'agent': {
      if (host === undefined) return fail(USAGE);
      const entry = addAgent(dir, host, values['public-key']);
      process.stdout.write(`${entry.name}\t${entry.public_key}\n`);
      process.stdout.write(`start the agent with NATS_NKEY_FILE=${values['public-key'] ? '<its seed file>' : seedFile(dir, entry.name)} `
        + `NATS_INBOX_PREFIX=${inboxPrefix(entry.role)} HOST_ID=${host}, then reload nats-server\n`);
      return 0;
    }
    case 'conf':
      process.stdout.write(`${writeAuthorization(dir)}\n`);
      return 0;
    default:
      return fail(USAGE);
  }
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`identities: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
