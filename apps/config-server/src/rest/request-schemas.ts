import {
  type ConfigRules,
  checkDescription,
  checkExistingVersion,
  checkExpectedVersion,
  checkMetadata,
  checkValue,
  Violations,
} from '@k1s0/config-domain';
import { z } from 'zod';

/**
 * A field checked by the domain's own rule, so the edge reports every bad field of a body at once
 * with the same messages the use case would use (the use case checks again; that is cheap).
 */
function ruled<T>(
  check: (violations: Violations, input: unknown) => void,
  documented: Record<string, unknown>,
) {
  return z
    .custom<T>()
    .superRefine((input, ctx) => {
      const violations = new Violations();
      check(violations, input);
      for (const { message } of violations.details) ctx.addIssue({ code: 'custom', message });
    })
    .meta(documented); // the JSON Schema /openapi.json shows for the rule
}

/** Query integer: absent stays undefined (the use case applies the default and the range). */
function queryInt(field: string) {
  return z
    .string({ error: `${field} は整数で指定してください` })
    .regex(/^-?\d{1,10}$/, `${field} は整数で指定してください`)
    .transform(Number)
    .optional();
}

const expectedVersionDoc = {
  type: 'integer',
  minimum: 0,
  description: 'The current version (optimistic check); 0 creates the key',
};

export function putBodySchema(rules: ConfigRules) {
  return z.object(
    {
      value: ruled<unknown>(
        (violations, v) => (v === undefined || v === null ? checkValue(violations, v, rules) : undefined),
        {
          description: `Any JSON value except null, at most ${rules.maxValueBytes} bytes serialized`,
        },
      ),
      version: ruled<number>((violations, v) => checkExpectedVersion(violations, v), expectedVersionDoc),
      // null = absent (keep the current description): many clients serialise an unset field as null.
      description: z
        .null()
        .transform(() => undefined)
        .or(ruled<string>((violations, v) => checkDescription(violations, v, rules), { type: 'string' }))
        .optional(),
      // SPEC §8. Absent keeps the flag; false clears it (sys_admin only).
      secret: z.boolean({ error: 'secret は true か false で指定してください' }).optional().meta({
        description: 'true stores the value encrypted; false clears the flag (sys_admin); absent keeps it',
      }),
      // SPEC §8. Absent or null keeps the metadata; an object replaces it ({} clears it).
      metadata: z
        .null()
        .transform(() => undefined)
        .or(
          ruled<Record<string, unknown>>((violations, v) => checkMetadata(violations, v, rules), {
            type: 'object',
            description: `Free-form labels, at most ${rules.maxMetadataBytes} bytes serialized; replaces the current ones ({} clears)`,
          }),
        )
        .optional(),
    },
    { error: 'リクエストボディは JSON オブジェクトで指定してください' },
  );
}

export const rollbackBodySchema = z.object(
  {
    to_version: ruled<number>((violations, v) => checkExistingVersion(violations, v), {
      type: 'integer',
      minimum: 1,
      description: 'The version whose value is written again',
    }),
    version: ruled<number>((violations, v) => checkExpectedVersion(violations, v), expectedVersionDoc),
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
