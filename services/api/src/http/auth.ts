import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpSettings } from './deps.js';
import { forbidden, unauthorized } from './errors.js';
import { allows, type Access } from './tokens.js';

/** What a route needs: `open` (health, metrics, the OpenAPI document), `read` or `write`. */
export type RouteAccess = 'open' | Access;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The name of the caller's token (what logs show: never the token), or null. */
    caller: string | null;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;

/**
 * The token of an Authorization header: `Bearer <token>`, or HTTP Basic credentials with the token as the password
 * or, with no password, as the user. Basic is what a URL's user part sends (`curl http://TOKEN@host/…`), so the
 * examples of job-scheduler and Blanket work with only their host changed.
 */
export function tokenOf(header: string): string | undefined {
  const bearer = BEARER.exec(header)?.[1];
  if (bearer !== undefined) return bearer;
  const basic = BASIC.exec(header)?.[1];
  if (basic === undefined) return undefined;
  const text = Buffer.from(basic, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  const [user, password] = colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
  return (password || user) || undefined;
}

/**
 * Bearer tokens: each route says what it needs (its `config.access`); a request without a valid token gets 401, a
 * read token on a write route 403. A route that says nothing needs `write`: a route added without thinking is shut.
 */
export function registerAuth(app: FastifyInstance, settings: HttpSettings): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    // An unknown route is answered 404 (or 405) whoever asks: its handler holds nothing.
    if (req.is404) return;
    const needs: RouteAccess = req.routeOptions.config.access ?? 'write';
    if (needs === 'open' || settings.tokens === null) return;
    if (needs === 'read' && settings.readOpen) return;
    const header = req.headers.authorization;
    if (header === undefined) throw unauthorized('authorization: a bearer token is required (Authorization: Bearer <token>)');
    const token = tokenOf(header);
    if (token === undefined) throw unauthorized('authorization: must be "Bearer <token>" (or Basic credentials holding the token)');
    const entry = settings.tokens.find(token);
    if (entry === null) throw unauthorized('authorization: the token is not known');
    req.caller = entry.name;
    if (!allows(entry.access, needs)) throw forbidden(`authorization: the token "${entry.name}" may only read`);
  });
}
