import type { Subscription } from '@nats-io/transport-node';
import { Limits, NotFoundError, Subjects, type TemplateList, type TemplateListRequest, type TemplateView } from '@tangerine/contracts';
import { getTemplate, listTemplates, type Ledger } from '@tangerine/ledger';
import { fitPage, pageSize, replyBudget, respond } from '@tangerine/platform';
import type { ServiceContext } from './config.js';

/** Templates a `templates.list` page holds when no limit is asked. */
const DEFAULT_PAGE = 100;

/**
 * templates.get and templates.list: request/reply over the ledger, in the api's queue group. A template's secret
 * values are never read here: its spec shows them as "(secret)".
 */
export function serveTemplateRequests(ctx: ServiceContext, queue: string): Subscription[] {
  return [
    respond(ctx, Subjects.templateGet, queue, async (req): Promise<TemplateView> => readTemplate(ctx.ledger, req.name, req.version)),
    respond(ctx, Subjects.templateList, queue, async (req): Promise<TemplateList> => readTemplatePage(ctx.ledger, req, replyBudget(ctx))),
  ];
}

/** One version of a template (the latest without one), or template_not_found naming what is missing. NATS and HTTP. */
export async function readTemplate(ledger: Ledger, name: string, version?: number): Promise<TemplateView> {
  const template = await getTemplate(ledger, name, version);
  if (template) return template;
  const latest = version === undefined ? null : await getTemplate(ledger, name);
  throw new NotFoundError(latest
    ? `version: template "${name}" has no version ${version} (its latest is ${latest.version})`
    : `name: no template named "${name}"`, { field: latest ? 'version' : 'name', code: 'template_not_found' });
}

/** A page of templates by name, within `budget` bytes. NATS and HTTP. */
export async function readTemplatePage(ledger: Ledger, req: TemplateListRequest, budget: number): Promise<TemplateList> {
  const limit = pageSize(req.limit, DEFAULT_PAGE, Limits.templatesPerPage);
  const page = fitPage(await listTemplates(ledger, { ...(req.after !== undefined ? { after: req.after } : {}), limit }), limit, budget, (t) => t.name);
  return { templates: page.items, next: page.next };
}
