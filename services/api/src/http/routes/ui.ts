import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpDeps } from '../deps.js';
import { routeNotFound, statusOf, errorBody } from '../errors.js';

/** One file of the page, read once at start: the page is a few tens of KiB, served from memory. */
interface Asset { readonly body: Buffer; readonly type: string; readonly etag: string }

const UI_DIR = new URL('../../../ui/', import.meta.url);
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

function asset(path: string | URL, name: string, edit: (text: string) => string = (t) => t): Asset {
  const body = Buffer.from(edit(readFileSync(path, 'utf8')));
  const type = TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * Everything the page loads comes from here (CSP `default-src 'self'`): no CDN, nothing fetched from elsewhere at
 * run time. d3-dag's own browser build (the graph's layout) is served from its package, as published.
 */
function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const assets = new Map<string, Asset>();
  for (const name of ['index.html', 'app.js', 'app.css', 'layout.js']) assets.set(name, asset(new URL(name, UI_DIR), name));
  // The package exports no path to its browser build: found beside its main file. It names no source map.
  const d3dag = path.join(path.dirname(require.resolve('d3-dag')), 'd3-dag.iife.min.js');
  assets.set('d3-dag.min.js', asset(d3dag, 'd3-dag.min.js', (t) => t.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')));
  return assets;
}

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function send(req: FastifyRequest, reply: FastifyReply, a: Asset, cache: string): FastifyReply {
  void reply.header('etag', a.etag).header('cache-control', cache).header('x-content-type-options', 'nosniff');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.type(a.type).send(a.body);
}

/**
 * The status page: one HTML shell for `/` and every `/ui/...` path (the script routes by the path), and its assets
 * under `/ui/assets/`. Open like the OpenAPI document: the files hold no data; what the page shows it reads through
 * the API's routes, with the token the reader gives when reading is not open (API_READ_OPEN).
 */
export function uiRoutes(app: FastifyInstance, _deps: HttpDeps): void {
  const assets = loadAssets();
  const page = assets.get('index.html')!;
  const shell = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    void reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
    return send(req, reply, page, 'no-cache');
  };
  const hide = { hide: true, security: [] };
  app.get('/', { config: { access: 'open' }, schema: { summary: 'The status page', tags: ['ui'], security: [] } }, shell);
  app.get('/ui', { config: { access: 'open' }, schema: { ...hide } }, shell);
  app.get('/ui/*', { config: { access: 'open' }, schema: { ...hide } }, shell);
  app.get('/ui/assets/:file', {
    config: { access: 'open' },
    schema: { ...hide, params: Type.Object({ file: Type.String({ maxLength: 64 }) }) },
  }, async (req, reply) => {
    const { file } = req.params as { file: string };
    const a = file === 'index.html' ? undefined : assets.get(file);
    if (a === undefined) {
      const error = routeNotFound(req.method, req.url);
      return reply.code(statusOf(error.code)).send(errorBody(error));
    }
    // The shell names no version in the assets' URLs: revalidated each time (a 304 while they are unchanged).
    return send(req, reply, a, 'no-cache');
  });
}
