#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import * as cmd from './commands.js';
import { connectClient, type ConnectFlags } from './connect.js';
import { describeError, exitCodeOfError } from './errors.js';
import { ExitCodes } from './exit-codes.js';
import { errorLine } from './io.js';

const program = new Command('tangerine')
  .description('Submit and follow Tangerine tasks over NATS, with the credentials every Tangerine process reads (NATS_URL, NATS_NKEY_FILE, ...).')
  .option('-s, --server <url>', 'NATS server(s), in place of NATS_URL')
  .option('--nkey <file>', 'an nkey seed file, in place of the credentials of the environment')
  .showHelpAfterError()
  // Options belong to the command they follow: `hosts drain h1 -o json` is drain's -o, and --server comes first.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ outputError: (text) => errorLine(text.replace(/^error: /, '').trimEnd()) });

program.addHelpText('after', `
Examples:
  export NATS_NKEY_FILE=/var/tmp/tangerine/nats-identities/seeds/submitter.nk
  tangerine submit -f task.json --wait
  tangerine apply -f tasks.yaml
  tangerine ps --state running,ready
  tangerine ps -q --state ready | xargs tangerine rm
  tangerine logs -f report

Exit codes: 0 ok; 1 failed; 2 bad usage or input; 65 rejected; 66 blocked; 67 cancelled; 69 unavailable;
with --wait a failed task's own exit code. See cli/README.md.`);

const connect: cmd.Connect = () => connectClient(process.env, program.opts<ConnectFlags>());

function int(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number (got ${JSON.stringify(value)})`);
    return Number(value);
  };
}
function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a number of seconds above 0 (got ${JSON.stringify(value)})`);
  return n;
}
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const output = (choices: string[]): Option => new Option('-o, --output <format>', 'output format').choices(choices);

let exitCode: number = ExitCodes.ok;
// commander passes its arguments untyped.
const run = <A extends any[]>(f: (...args: A) => Promise<number>) => async (...args: A): Promise<void> => {
  exitCode = await f(...args);
};

program.command('submit')
  .description('Submit the task specs of a JSON or YAML file (one, a list, or many YAML documents)')
  .requiredOption('-f, --file <file>', 'the file, or - for stdin')
  .option('-w, --wait', 'follow each task until it ends; exit with its result')
  .option('--timeout <seconds>', 'with --wait: give up after this long (exit 69)', seconds)
  .addOption(output(['table', 'json']))
  .addHelpText('after', `
Examples:
  tangerine submit -f task.json
  echo '{"name": "hello", "executor": "process", "command": "echo hello"}' | tangerine submit -f - --wait
  tangerine submit -f pipeline.yaml --wait -o json

With --wait the exit code is 0 when every task succeeded, else the first failure's: the task's exit code
(1 when it has none), 65 rejected, 66 blocked, 67 cancelled.`)
  .action(run((o: cmd.SubmitOpts) => cmd.submit(connect, o)));

program.command('apply')
  .description('Make the tasks and templates of a YAML file exist, as written: what is already so is left unchanged')
  .requiredOption('-f, --file <file>', 'the file, or - for stdin')
  .addOption(output(['table', 'json']))
  .addHelpText('after', `
Each task is shown "created" (new), "submitted" (it had finished with another spec: submitted again),
"unchanged" (its spec is the document's), "rejected" or "busy" (another spec, not finished: cancel it first).
Applying the same file twice changes nothing. Exit 0, or 65 when any was rejected or busy.

Examples:
  tangerine apply -f tasks.yaml
  tangerine apply -f tasks.yaml -o json`)
  .action(run((o: cmd.ApplyOpts) => cmd.apply(connect, o)));

for (const name of ['ps', 'ls']) {
  program.command(name)
    .description(name === 'ps' ? 'List tasks: name, state, host, attempt, failures, age' : 'The same as ps')
    .option('--state <states>', 'only these states (repeat, or a comma list)', collect)
    .option('--prefix <prefix>', 'only names starting with this')
    .option('-q, --quiet', 'names only, one per line')
    .addOption(output(['table', 'json', 'yaml']))
    .option('--watch', 'draw again on every change (Ctrl-C ends)')
    .option('--limit <n>', 'at most this many tasks (default: all, page after page)', int('--limit'))
    .addHelpText('after', `
Examples:
  tangerine ${name}
  tangerine ${name} --state failed,blocked --prefix nightly-
  tangerine ${name} -q --state ready | xargs tangerine rm
  tangerine ${name} -o yaml --limit 10`)
    .action(run((o: cmd.PsOpts) => cmd.ps(connect, o)));
}

program.command('get')
  .description('A task: its spec, state, reason, runs, fire times, next run, and its dependencies as a tree')
  .argument('<name>')
  .addOption(output(['table', 'json', 'yaml']))
  .addHelpText('after', `
Examples:
  tangerine get load
  tangerine get load -o json`)
  .action(run((name: string, o: { output?: string }) => cmd.get(connect, name, o)));

program.command('logs')
  .description('A run\'s output (the latest run unless --attempt)')
  .argument('<name>')
  .option('--attempt <n>', 'this run', int('--attempt'))
  .option('-f, --follow', 'print the output as the run prints it, run after run, until the task ends; exit with its result')
  .option('--timeout <seconds>', 'with -f: give up after this long', seconds)
  .addHelpText('after', `
Examples:
  tangerine logs report
  tangerine logs report --attempt 2
  tangerine logs -f report`)
  .action(run((name: string, o: cmd.LogsOpts) => cmd.logs(connect, name, o)));

for (const name of ['rm', 'cancel']) {
  program.command(name)
    .description(name === 'rm' ? 'Cancel tasks (names as arguments, or from stdin with - or when piped)' : 'The same as rm')
    .argument('[names...]')
    .addHelpText('after', `
Exit 0 when every task was cancelled, 1 when any was not (unknown, or finished already).

Examples:
  tangerine ${name} report nightly-1
  tangerine ps -q --state ready | xargs tangerine ${name}
  tangerine ps -q --prefix tmp- | tangerine ${name} -`)
    .action(run((names: string[]) => cmd.rm(connect, names)));
}

const hosts = program.command('hosts')
  .description('The hosts: state, slots, runs, executors, labels; drain and undrain')
  .addOption(new Option('--state <state>', 'only hosts in this state').choices(['up', 'draining', 'down']))
  .addOption(output(['table', 'json', 'yaml']))
  .addHelpText('after', `
Examples:
  tangerine hosts
  tangerine hosts drain h1     # needs the operator's identity
  tangerine hosts undrain h1`)
  .action(run((o: { output?: string; state?: string }) => cmd.hosts(connect, o)));
hosts.command('drain')
  .description('Give a host nothing new; its runs go on (operator identity)')
  .argument('<id>')
  .addOption(output(['table', 'json']))
  .action(run((id: string, o: { output?: string }) => cmd.drain(connect, id, false, o)));
hosts.command('undrain')
  .description('Let a drained host take runs again (operator identity)')
  .argument('<id>')
  .addOption(output(['table', 'json']))
  .action(run((id: string, o: { output?: string }) => cmd.drain(connect, id, true, o)));

program.command('events')
  .description('The event stream as readable lines (Ctrl-C ends): task states, hosts, rejections, fleet')
  .option('--name <name>', 'only this task\'s events')
  .option('--kind <kinds>', 'only these kinds: task, host, rejection, fleet (repeat, or a comma list)', collect)
  .option('--from <where>', 'now (default), first (the oldest kept), or a stream sequence')
  .option('-n, --count <n>', 'end after this many events', int('--count'))
  .addOption(output(['table', 'json']))
  .addHelpText('after', `
Each line starts with the event's stream sequence: resume after it with --from <seq + 1>.

Examples:
  tangerine events
  tangerine events --name report --from first
  tangerine events --kind rejection -o json`)
  .action(run((o: Parameters<typeof cmd.events>[1]) => cmd.events(connect, o)));

process.on('SIGINT', () => process.exit(130));
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  // `tangerine ps | head` closes the pipe: not an error of ours.
  if (e.code === 'EPIPE') process.exit(exitCode);
  throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof CommanderError)) errorLine(describeError(e));
  exitCode = exitCodeOfError(e);
}
process.exitCode = exitCode;
