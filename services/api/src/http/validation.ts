import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { compile } from '@tangerine/contracts';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * A schema that documents a body its route checks itself (the task specs, by parseTaskSpec, as intake does): the
 * route schema's body then validates nothing here.
 */
export const CHECKED_BY_ROUTE = 'x-checked-by-route';

/**
 * Route schemas are the TypeBox schemas of libs/contracts, checked with libs/contracts' compile: a fault is a
 * ValidationError (`invalid_request`) that names the field and the rule, as on NATS. A query string and the path's
 * parameters are text: they are converted to the schema's types first (`limit=10` is the number 10).
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  if ((schema as Record<string, unknown>)[CHECKED_BY_ROUTE] === true) return (value: unknown) => ({ value });
  const validator = compile(schema);
  const convert = httpPart === 'querystring' || httpPart === 'params';
  return (data: unknown) => {
    try {
      return { value: validator.parse(convert ? Value.Convert(schema, data) : data, 'invalid_request') };
    } catch (err) {
      return { error: err as Error };
    }
  };
};
