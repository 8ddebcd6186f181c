/**
 * Mints a local HS256 token for development: `pnpm token --role sys_admin --email a@example.com`.
 * Prints only the token on stdout so it can be captured: TOKEN=$(pnpm -s token --role sys_auditor).
 */
import { parseArgs } from 'node:util';
import { DEV_DEFAULT_SECRET, devTokenClaims, signDevToken } from './dev-token.js';
import { ROLES, type Role } from './roles.js';

const USAGE = `usage: pnpm token [--role <${ROLES.join('|')}>]... [--email E] [--sub S] [--secret S] [--ttl SECONDS] [--iss I] [--aud A]... [--scope PATTERN]...
  --secret defaults to $AUTH_DEV_SECRET, else the dev default; --iss/--aud default to $AUTH_ISSUER/$AUTH_AUDIENCE.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(1);
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

function main(): void {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const roles = values.role ?? [];
  const unknownRole = roles.find((role) => !isRole(role));
  if (unknownRole !== undefined) fail(`unknown role: ${unknownRole}`);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0)
    fail(`--ttl must be a positive integer of seconds, got ${values.ttl}`);

  const envAudience = process.env.AUTH_AUDIENCE;
  const audience = values.aud ?? (envAudience ? [envAudience] : []);
  const claims = devTokenClaims({
    roles,
    email: values.email,
    sub: values.sub,
    iss: values.iss ?? (process.env.AUTH_ISSUER || undefined),
    aud: audience.length === 1 ? audience[0] : audience.length > 1 ? audience : undefined,
    scopes: values.scope,
  });
  const secret = values.secret ?? (process.env.AUTH_DEV_SECRET || DEV_DEFAULT_SECRET);
  process.stdout.write(`${signDevToken(claims, secret, ttl)}\n`);
}

function parse() {
  return parseArgs({
    options: {
      role: { type: 'string', multiple: true },
      email: { type: 'string' },
      sub: { type: 'string' },
      secret: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      iss: { type: 'string' },
      aud: { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}

main();
