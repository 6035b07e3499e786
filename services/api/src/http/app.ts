import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { registerAuth } from './auth.js';
import type { HttpDeps } from './deps.js';
import { errorBody, methodNotAllowed, routeNotFound, statusOf, toTangerine } from './errors.js';
import { ROUTES } from './routes/index.js';
import { validatorCompiler } from './validation.js';
import { registerYaml } from './yaml-body.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The HTTP API: a Fastify app over the ledger's reads and the bus (every write). Route modules (routes/) are
 * registered in one place (routes/index.ts); each route says what token it needs (auth.ts), and every failure is
 * `{"error": {code, message, field?}}` with the status of its code (errors.ts).
 */
export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is Fastify's logger; their types differ only in generics.
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    // One line per request at debug (onResponse below), not Fastify's two at info: a busy API would drown the log.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: deps.settings.bodyLimit,
    // The request id is the log's `reqId`; a caller's X-Request-Id is taken (when short and plain: it goes on every
    // line of the request), so both ends name one request alike.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // While closing, requests in flight and new ones on open connections are still answered (the bus and the ledger
    // close after the HTTP server): Fastify's own 503 would have a body of its own.
    return503OnClosing: false,
    // A name is at most 100 characters: a longer one still reaches the schema, which names the rule.
    routerOptions: { maxParamLength: 200 },
    // The router's own refusals (a bad URL, a parameter over maxParamLength) with the same body as every failure.
    frameworkErrors: (err, _req, reply) => {
      const { error } = toTangerine(err);
      void (reply as FastifyReply).code(statusOf(error.code)).type('application/json; charset=utf-8').send(errorBody(error));
    },
  });
  // Fastify reads text/plain bodies by default: no route here takes one, so such a body is 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  // Replies are the typed values of the ledger's reads: written as they are (the schemas document them; a reply is
  // not cut down to what a response schema lists).
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
  registerYaml(app);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { error, known } = toTangerine(err);
    if (!known) req.log.error({ err, url: req.routeOptions.url, caller: req.caller }, 'request failed');
    else if (error.retryable) req.log.warn({ code: error.code, err: error.cause ?? undefined, url: req.routeOptions.url }, error.message);
    const status = statusOf(error.code);
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="tangerine"');
    void reply.code(status).type('application/json; charset=utf-8').send(errorBody(error));
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    const allowed = METHODS.filter((m) => m !== req.method && app.findRoute({ method: m, url: path }) !== null);
    const error = allowed.length > 0 ? methodNotAllowed(req.method, req.url, allowed) : routeNotFound(req.method, req.url);
    if (allowed.length > 0) void reply.header('allow', allowed.join(', '));
    void reply.code(statusOf(error.code)).send(errorBody(error));
  });
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, caller: req.caller, ms: Math.round(reply.elapsedTime) }, 'request');
    deps.metrics.inc('http_requests', 1, { route: req.routeOptions.url ?? 'none', status: String(reply.statusCode) });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tangerine HTTP API', version: '1',
        description: 'Tasks, runs, hosts and events of Tangerine. Every failure is {"error": {code, message, field}}; see the README, "HTTP API" and "Errors".',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  registerAuth(app, deps.settings);
  for (const routes of ROUTES) routes(app, deps);
  return app;
}
