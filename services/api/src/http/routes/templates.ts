import { Type } from '@sinclair/typebox';
import { TemplateDefinition, TemplateList, TemplateListRequest, TemplateStored, TemplateView, UnprocessableError, ValidationError, parseTemplateDefinition } from '@tangerine/contracts';
import type { FastifyInstance } from 'fastify';
import { readTemplate, readTemplatePage } from '../../templates.js';
import type { HttpDeps } from '../deps.js';
import { parseYamlDocuments } from '../documents.js';
import { linkNext } from '../paging.js';
import { CHECKED_BY_ROUTE } from '../validation.js';
import { YamlText } from '../yaml-body.js';
import { failures } from './schemas.js';

const TemplateParams = Type.Object({ name: TemplateView.properties.name }, { additionalProperties: false });
const VersionQuery = Type.Object({ version: Type.Optional(TemplateView.properties.version) }, { additionalProperties: false });
const PutBody = Type.Union([TemplateDefinition], {
  [CHECKED_BY_ROUTE]: true,
  description: 'A template {name, spec, description?}, as JSON or (application/yaml) a `kind: template` document',
});

/** The template a body holds: JSON, or one YAML document of kind template. */
function definitionOf(body: unknown): unknown {
  if (!(body instanceof YamlText)) return body;
  const docs = parseYamlDocuments(body.text);
  if (docs.templates.length !== 1 || docs.tasks.length > 0) {
    throw new ValidationError('invalid_template', 'body: must hold one template (kind: template); submit tasks with POST /v1/tasks', { field: 'body' });
  }
  return { ...(docs.templates[0]!.template as object) };
}

/**
 * Templates: stored through intake (templates.put on the bus: the API never writes the ledger), read from the ledger
 * as templates.get and templates.list answer.
 */
export function templateRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const tags = ['templates'];
  app.post('/v1/templates', {
    config: { access: 'write' },
    schema: {
      summary: 'Store a template: 201 with its new version, 200 when its latest version holds this content already', tags,
      consumes: ['application/json', 'application/yaml'], body: PutBody, response: { 200: TemplateStored, 201: TemplateStored, ...failures(400, 401, 403, 413, 415, 503) },
    },
  }, async (req, reply) => {
    const definition = definitionOf(req.body);
    parseTemplateDefinition(definition);
    const { outcome } = await deps.client.putTemplate(definition, { wait: true });
    if (outcome?.rejected) throw new ValidationError('invalid_template', outcome.rejected.reason, { field: outcome.rejected.field ?? 'template' });
    if (!outcome?.stored) throw new UnprocessableError('template: stored, but intake gave no answer in time');
    req.log.info({ template: outcome.stored.name, version: outcome.stored.version, created: outcome.stored.created, caller: req.caller }, 'template put');
    return reply.code(outcome.stored.created ? 201 : 200).send(outcome.stored);
  });

  app.get('/v1/templates', {
    config: { access: 'read' },
    schema: { summary: 'The latest version of each template, a page by name', tags, querystring: TemplateListRequest, response: { 200: TemplateList, ...failures(400, 401, 503) } },
  }, async (req, reply) => {
    const page = await readTemplatePage(deps.ledger, req.query as TemplateListRequest, deps.pageBudget());
    linkNext(req, reply, 'after', page.next);
    return page;
  });

  app.get('/v1/templates/:name', {
    config: { access: 'read' },
    schema: { summary: 'A template: its latest version, or `?version=`', tags, params: TemplateParams, querystring: VersionQuery, response: { 200: TemplateView, ...failures(400, 401, 404, 503) } },
  }, async (req) => readTemplate(deps.ledger, (req.params as { name: string }).name, (req.query as { version?: number }).version));
}
