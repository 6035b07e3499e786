import type { FastifyInstance } from 'fastify';

/** The media types a YAML body comes as (application/yaml is RFC 9512's; the others are what tools still send). */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'] as const;

/** A YAML body, as text: the route that takes YAML reads its documents (documents.ts); any other refuses it. */
export class YamlText {
  constructor(readonly text: string) {}
}

export function registerYaml(app: FastifyInstance): void {
  app.addContentTypeParser([...YAML_TYPES], { parseAs: 'string' }, (_req, body, done) => done(null, new YamlText(body as string)));
}
