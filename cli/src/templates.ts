import type { TangerineClient } from '@tangerine/client';
import { applyTemplate, parseTemplateRef } from '@tangerine/contracts';
import type { TemplateDocument } from './documents.js';

/** What `apply` reports for a template: a new version stored, its latest version already this content, or refused. */
export type TemplateResult = { name: string; version?: number; result: 'created' | 'unchanged' | 'rejected'; reason?: string };

/**
 * Puts a template (`kind: template`) and waits for intake's answer: the version now holding this content (`created`
 * false when it equals the latest: putting it again changes nothing), or the rejection naming the field and the rule.
 */
export async function putTemplate(client: TangerineClient, template: TemplateDocument, where: string): Promise<TemplateResult> {
  const { outcome } = await client.putTemplate(template, { wait: true });
  const name = typeof template.name === 'string' ? template.name : where;
  if (outcome?.rejected) return { name, result: 'rejected', reason: outcome.rejected.reason };
  if (!outcome?.stored) return { name, result: 'unchanged' };
  return { name: outcome.stored.name, version: outcome.stored.version, result: outcome.stored.created ? 'created' : 'unchanged' };
}

/**
 * A task document as intake will see it: merged with the template it names (the version it names, else the latest),
 * so that `apply` compares what would run with what is stored. A template not found leaves the document as it is
 * (intake will say why when it is submitted).
 */
export async function merged(client: TangerineClient, document: unknown): Promise<unknown> {
  const ref = (document as { template?: unknown } | null)?.template;
  if (ref === undefined || typeof document !== 'object' || document === null) return document;
  let parsed: ReturnType<typeof parseTemplateRef>;
  try {
    parsed = parseTemplateRef(ref);
  } catch {
    return document;
  }
  const template = await client.getTemplate(parsed.name, parsed.version ?? undefined).catch(() => null);
  return template ? applyTemplate(template.spec, document as Record<string, unknown>) : document;
}
