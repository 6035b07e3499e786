/**
 * The docker command and the stack's PostgreSQL, as the deployment test (swarm.test.ts) drives them: every call is
 * the CLI a person would type, run asynchronously (the test's timers and waits keep going), with a time limit.
 */
import { execFile } from 'node:child_process';

export interface Run {
  /** Standard input for the command. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a command; its stdout, or an error quoting the command, its status and stderr. */
export function run(file: string, args: readonly string[], opts: Run = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, {
      env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8',
    }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message.split('\n')[0]}\n${stderr}${stdout}`.slice(0, 8000)));
      else resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export const docker = (args: readonly string[], opts?: Run): Promise<string> => run('docker', args, opts);

/** Lines of a docker command's output, blank ones dropped. */
export async function lines(args: readonly string[], opts?: Run): Promise<string[]> {
  return (await docker(args, opts)).split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Runs a docker command for cleaning up: a failure is returned as text, not thrown. */
export async function tryDocker(args: readonly string[]): Promise<string | null> {
  try {
    await docker(args, { timeoutMs: 180_000 });
    return null;
  } catch (err) {
    return String(err);
  }
}

/** The ids of the running containers of one swarm service. */
export const containersOf = (service: string): Promise<string[]> =>
  lines(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`, '--filter', 'status=running']);

/** A container's address on one network. */
export async function addressOn(container: string, network: string): Promise<string> {
  return (await docker(['inspect', '-f', `{{with index .NetworkSettings.Networks "${network}"}}{{.IPAddress}}{{end}}`, container])).trim();
}

/** SQL through psql inside the stack's PostgreSQL container: rows of tab-separated fields. */
export class StackLedger {
  constructor(private readonly service: string, private readonly password: string) {}

  async query(sql: string): Promise<string[][]> {
    const [container] = await containersOf(this.service);
    if (!container) throw new Error(`no running container of ${this.service}`);
    const out = await docker(['exec', '-i', '-e', `PGPASSWORD=${this.password}`, container,
      'psql', '-h', '127.0.0.1', '-U', 'tangerine', '-d', 'tangerine', '-v', 'ON_ERROR_STOP=1', '-AtF', '\t', '-f', '-'], { input: sql, timeoutMs: 30_000 });
    return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
  }
}
