import type { TangerineClient } from '@tangerine/client';
import { UnprocessableError } from '@tangerine/contracts';
import type { TemplateDocument } from './documents.js';

/** What `apply` reports for a template: a new version stored, or its latest version already has this content. */
export type TemplateResult = { name: string; version: number; result: 'created' | 'unchanged' };

/**
 * Puts a template (`kind: template`) through the client. The one place `apply` and `submit` reach templates: lane
 * "templates" of issue 13 adds `client.putTemplate(def, {wait})` to libs/client; until it is merged here, a template
 * document is refused, naming the document. To wire it: return the result of `client.putTemplate(template, { wait:
 * true })` (its version, and whether it made a new one).
 */
export async function putTemplate(client: TangerineClient, template: TemplateDocument, where: string): Promise<TemplateResult> {
  void client;
  throw new UnprocessableError(`${where}: kind: template ${JSON.stringify(template.name)}: this tangerine cannot store templates yet (its client has no putTemplate)`, { field: 'kind' });
}
