import type { Subscription } from '@nats-io/transport-node';
import { Limits, NotFoundError, Subjects, type TemplateList, type TemplateView } from '@tangerine/contracts';
import { getTemplate, listTemplates } from '@tangerine/ledger';
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
    respond(ctx, Subjects.templateGet, queue, async (req): Promise<TemplateView> => {
      const template = await getTemplate(ctx.ledger, req.name, req.version);
      if (template) return template;
      const latest = req.version === undefined ? null : await getTemplate(ctx.ledger, req.name);
      throw new NotFoundError(latest
        ? `version: template "${req.name}" has no version ${req.version} (its latest is ${latest.version})`
        : `name: no template named "${req.name}"`, { field: latest ? 'version' : 'name', code: 'template_not_found' });
    }),
    respond(ctx, Subjects.templateList, queue, async (req): Promise<TemplateList> => {
      const limit = pageSize(req.limit, DEFAULT_PAGE, Limits.templatesPerPage);
      const page = fitPage(await listTemplates(ctx.ledger, { ...(req.after !== undefined ? { after: req.after } : {}), limit }), limit, replyBudget(ctx), (t) => t.name);
      return { templates: page.items, next: page.next };
    }),
  ];
}
