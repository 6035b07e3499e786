import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { runtimeConfig, type RuntimeConfig } from './config.js';
import { serveHealth, type HealthCheck } from './health.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { compileAll, type ConfigSpec, type Env } from './settings.js';

/** Returned by every service's `start`: stops it, finishing or handing back the work it holds. */
export type Stop = () => Promise<void>;

/**
 * What every service receives; a process adds its connections (bus, ledger) on top. `config` is what the
 * connections read while connecting, and a service's own config (its ServiceDef's) once it starts.
 */
export interface BaseContext<C = unknown> {
  readonly config: C;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  /** Checks served on /healthz; a service adds its own. */
  readonly health: Record<string, HealthCheck>;
}

/** A context with its config replaced: what a service's `start` receives. */
export type WithConfig<C, S> = Omit<C, 'config'> & { readonly config: S };

export interface ServiceDef<C, S = unknown> {
  readonly name: string;
  /** The settings the service reads (and only those), compiled once at start before anything connects. */
  readonly config: ConfigSpec<S>;
  start(ctx: WithConfig<C, S>): Promise<Stop>;
}

export interface ProcessOptions<P, C extends BaseContext<P>> {
  /** The process name in logs: a service's, or `tangerine` for the combined process. */
  name: string;
  /** The settings `connect` reads. */
  config: ConfigSpec<P>;
  /** Opens the connections the services share. */
  connect(base: BaseContext<P>): Promise<{ ctx: C; close: Stop }>;
  // `any`: each service has its own config type; its ServiceDef ties its `config` and its `start` together.
  services: readonly ServiceDef<C, any>[];
  /** The environment the configs are compiled from (process.env by default). */
  env?: Env;
}

/**
 * Runs services in this process until SIGINT or SIGTERM, then stops them in reverse order.
 * One service per process in a swarm, all of them in one process on a single machine: the same code.
 */
export async function runProcess<P, C extends BaseContext<P>>(opts: ProcessOptions<P, C>): Promise<void> {
  // Every config at once, before anything connects: a bad or conflicting setting stops the process here, with
  // every problem named (a combined process compiles each of its services' configs).
  const [config, connection, ...serviceConfigs] = compileOrExit(
    [runtimeConfig, opts.config, ...opts.services.map((s) => s.config)], opts.env ?? process.env,
  ) as [RuntimeConfig, P, ...unknown[]];
  const log = createLogger(opts.name, { level: config.logLevel, pretty: config.logPretty });
  const metrics = new Metrics(opts.name, { defaults: true });
  const base: BaseContext<P> = { config: connection, log, clock: systemClock, metrics, health: {} };
  const stops: { name: string; stop: Stop }[] = [];
  let stopping = false;

  const shutdown = async (signal: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const forceMs = forcedExitAfterMs(config.stopGraceMs);
    const force = setTimeout(() => {
      log.error({ after_ms: forceMs }, `stop took longer than ${forceMs / 1000} s; exiting`);
      process.exit(code || 1);
    }, forceMs);
    force.unref();
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ err, part: name }, 'error while stopping');
      }
    }
    log.info('stopped');
    log.flush?.();
    process.exitCode = code;
    setTimeout(() => process.exit(code), 50).unref();
  };
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  // A promise nobody awaited failed: a bug, said loudly, but not a reason to stop every service of the process (under
  // `npm start`, every service and the agent): Node's default would end it. An exception thrown out of a callback
  // leaves unknown state behind: that one stops the process, cleanly and with its reason.
  process.on('unhandledRejection', (reason) => {
    base.metrics.inc('unhandled_rejections');
    log.error({ err: reason }, 'unhandled promise rejection (a bug): the process goes on');
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception (a bug): stopping');
    void shutdown('uncaughtException', 1);
  });

  try {
    const { ctx, close } = await opts.connect(base);
    stops.push({ name: 'connections', stop: close });
    for (const [i, service] of opts.services.entries()) {
      const serviceCtx = { ...ctx, config: serviceConfigs[i], log: ctx.log.child({ service: service.name }) };
      stops.push({ name: service.name, stop: await service.start(serviceCtx) });
      log.info({ part: service.name }, 'started');
    }
    if (config.healthPort !== null) {
      const server = await serveHealth({ port: config.healthPort, service: opts.name, log, metrics: base.metrics, checks: base.health });
      stops.push({ name: 'health', stop: server.close });
    }
  } catch (err) {
    log.fatal({ err }, 'could not start');
    await shutdown('startup-failure', 1);
  }
}

/**
 * How long a stop may take before the process exits anyway: 15 s, or more when STOP_GRACE asks for it, since an
 * agent's stop gives its process runs STOP_GRACE to end and then reports each one (a few seconds of retries at most).
 */
function forcedExitAfterMs(stopGraceMs: number): number {
  return Math.max(15000, stopGraceMs + 5000);
}

function compileOrExit(specs: readonly ConfigSpec<unknown>[], env: Env): unknown[] {
  try {
    return compileAll(specs, env);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
