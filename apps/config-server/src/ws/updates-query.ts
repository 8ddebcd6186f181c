import { type ConfigRules, checkNamespace, Violations } from '@k1s0/config-domain';
import { z } from 'zod';

/**
 * Query of `GET /ws/v1/configs/updates`, checked before the upgrade so bad input is a 400 envelope
 * rather than a close code. Namespaces are checked with the domain's own rule (the use case checks
 * again; that is cheap).
 */
export function updatesQuerySchema(rules: ConfigRules) {
  return z.object({
    namespaces: z
      .string({ error: 'namespaces はカンマ区切りの文字列で指定してください' })
      .optional()
      .transform((list) => (list ?? '').split(',').filter((namespace) => namespace !== ''))
      .superRefine((namespaces, ctx) => {
        namespaces.forEach((namespace, i) => {
          const violations = new Violations();
          checkNamespace(violations, namespace, rules, `namespaces[${i}]`);
          for (const { message } of violations.details) ctx.addIssue({ code: 'custom', message, path: [i] });
        });
      })
      .meta({
        description: 'Comma-separated exact namespaces to watch; absent or empty = all (sys_auditor)',
        examples: ['system.auth.database,service.payment.api'],
      }),
    from_revision: z
      .string({ error: 'from_revision は 0 以上の整数で指定してください' })
      .regex(/^\d{1,19}$/, 'from_revision は 0 以上の整数で指定してください')
      .transform((digits) => BigInt(digits))
      .optional()
      .meta({
        description:
          'The last revision the client has seen: replay every later change, then go live (sys_auditor)',
      }),
  });
}
