import {
  type ConfigRules,
  descriptionProblem,
  existingVersionProblem,
  expectedVersionProblem,
  type Problem,
  valueProblem,
} from '@k1s0/config-domain';
import { z } from 'zod';

/**
 * A field checked by the domain's own rule, so the edge reports every bad field of a body at once
 * with the same messages the use case would use (the use case checks again; that is cheap).
 */
function ruled<T>(problem: (input: unknown) => Problem) {
  return z.custom<T>().superRefine((input, ctx) => {
    const found = problem(input);
    if (found !== undefined) ctx.addIssue({ code: 'custom', message: found.message });
  });
}

/** Query integer: absent stays undefined (the use case applies the default and the range). */
function queryInt(field: string) {
  return z
    .string({ error: `${field} は整数で指定してください` })
    .regex(/^-?\d{1,10}$/, `${field} は整数で指定してください`)
    .transform(Number)
    .optional();
}

export function putBodySchema(rules: ConfigRules) {
  return z.object(
    {
      value: ruled<unknown>((v) => (v === undefined || v === null ? valueProblem(v, rules) : undefined)),
      version: ruled<number>((v) => expectedVersionProblem(v)),
      // null = absent (keep the current description): many clients serialise an unset field as null.
      description: z
        .null()
        .transform(() => undefined)
        .or(ruled<string>((v) => descriptionProblem(v, rules)))
        .optional(),
    },
    { error: 'リクエストボディは JSON オブジェクトで指定してください' },
  );
}

export const rollbackBodySchema = z.object(
  {
    to_version: ruled<number>((v) => existingVersionProblem(v)),
    version: ruled<number>((v) => expectedVersionProblem(v)),
  },
  { error: 'リクエストボディは JSON オブジェクトで指定してください' },
);

export const pageQuerySchema = z.object({ page: queryInt('page'), page_size: queryInt('page_size') });

export const listQuerySchema = pageQuerySchema.extend({
  search: z.string({ error: 'search は文字列で指定してください' }).optional(),
});

export const entryParamsSchema = z.object({ namespace: z.string(), key: z.string() });
export const namespaceParamsSchema = z.object({ namespace: z.string() });
export const serviceParamsSchema = z.object({ service_name: z.string() });
