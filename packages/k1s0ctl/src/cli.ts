import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createConfigAdmin, type JsonValue } from '@k1s0/config-client';
import { createEventStoreClient, type ExpectedVersion } from '@k1s0/event-store-client';
import { DocumentError, describePlan, parseDocument, plan, toDocument } from './namespace-file.js';
import { type OutputFormat, render, renderStreamed } from './output.js';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, conflict: 3, notFound: 4 } as const;

export const USAGE = `usage: k1s0ctl [global options] <group> <command> [args]

config get <namespace> <key>
config put <namespace> <key> <json-value> [--version N] [--description D] [--string]
config delete <namespace> <key>
config list <namespace> [--search S]
config history <namespace> <key> [--page N] [--page-size N]
config rollback <namespace> <key> --to-version N [--version N]
config watch [namespace...] [--from-revision N]
config export <namespace> [--format yaml|json] [--file F]
config import <file> [--namespace NS] [--dry-run]
events append <stream> --type T --data JSON [--expected-version N|no_stream|any] [--id UUID]
events read <stream> [--from-version N] [--to-version N] [--type T] [--page-size N]
events tail [--from-sequence N] [--type T]...
events streams [--from-sequence N]

global options:
  -o, --output json|yaml|table   (default table)
  --token-file F                 token file (else $K1S0_TOKEN)
  --config-url URL               config-server REST   (else $K1S0_CONFIG_URL, default http://localhost:8080)
  --config-grpc-url URL          config-server gRPC   (else $K1S0_CONFIG_GRPC_URL, default http://localhost:50051)
  --events-url URL               event-store REST     (else $K1S0_EVENTS_URL, default http://localhost:8099)

exit codes: 0 ok, 1 failure, 2 usage, 3 conflict, 4 not found`;

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Ends `config watch` / `events tail` (Ctrl-C in the binary). */
  readonly signal?: AbortSignal;
}

class UsageError extends Error {}

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  'token-file': { type: 'string' },
  'config-url': { type: 'string' },
  'config-grpc-url': { type: 'string' },
  'events-url': { type: 'string' },
  version: { type: 'string' },
  description: { type: 'string' },
  string: { type: 'boolean' },
  search: { type: 'string' },
  page: { type: 'string' },
  'page-size': { type: 'string' },
  'to-version': { type: 'string' },
  'from-version': { type: 'string' },
  'from-revision': { type: 'string' },
  'from-sequence': { type: 'string' },
  format: { type: 'string' },
  file: { type: 'string' },
  namespace: { type: 'string' },
  'dry-run': { type: 'boolean' },
  type: { type: 'string', multiple: true },
  data: { type: 'string' },
  'expected-version': { type: 'string' },
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];
const parse = (argv: readonly string[]) =>
  parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });

function int(values: Values, name: keyof Values, min = 0): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${String(raw)}`);
  return n;
}

function positional(args: readonly string[], count: number, names: string): string[] {
  if (args.length !== count) throw new UsageError(`expected ${names}`);
  return [...args];
}

function jsonArg(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError(`${what} is not JSON (use --string for a plain string): ${text}`);
  }
}

/** Runs one command; resolves with the exit code (never calls process.exit). */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (values.help || positionals.length === 0) {
    (values.help ? io.stdout : io.stderr)(`${USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  try {
    const output = (values.output ?? 'table') as OutputFormat;
    if (!['json', 'yaml', 'table'].includes(output))
      throw new UsageError(`--output must be json, yaml or table`);
    const [group, command, ...args] = positionals;
    const token = await readToken(values, io);
    const print = (data: unknown) => io.stdout(render(data, output));
    if (group === 'config') return await configCommand(command, args, values, { io, token, output, print });
    if (group === 'events') return await eventsCommand(command, args, values, { io, token, output, print });
    throw new UsageError(`unknown group: ${group}`);
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: Io): number {
  if (error instanceof UsageError) {
    io.stderr(`${error.message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (error instanceof DocumentError) {
    io.stderr(`invalid file: ${error.message}\n`);
    return EXIT.failure;
  }
  const e = error as {
    kind?: string;
    code?: string;
    message?: string;
    details?: { field: string; message: string }[];
  };
  const details = (e.details ?? []).map((d) => `\n  ${d.field}: ${d.message}`).join('');
  io.stderr(`error: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(error)}${details}\n`);
  if (e.kind === 'conflict') return EXIT.conflict;
  if (e.kind === 'not_found') return EXIT.notFound;
  return EXIT.failure;
}

async function readToken(values: Values, io: Io): Promise<string> {
  const file = values['token-file'];
  const token = file === undefined ? io.env.K1S0_TOKEN : (await readFile(file, 'utf8')).trim();
  if (token === undefined || token === '')
    throw new UsageError('no token: set K1S0_TOKEN or pass --token-file');
  return token;
}

interface Ctx {
  io: Io;
  token: string;
  output: OutputFormat;
  print: (data: unknown) => void;
}

async function configCommand(
  command: string | undefined,
  args: string[],
  values: Values,
  ctx: Ctx,
): Promise<number> {
  const admin = createConfigAdmin({
    baseUrl: values['config-url'] ?? ctx.io.env.K1S0_CONFIG_URL ?? 'http://localhost:8080',
    grpcUrl: values['config-grpc-url'] ?? ctx.io.env.K1S0_CONFIG_GRPC_URL ?? 'http://localhost:50051',
    token: ctx.token,
  });
  switch (command) {
    case 'get': {
      const [ns, key] = positional(args, 2, '<namespace> <key>');
      ctx.print(await admin.get(ns!, key!));
      return EXIT.ok;
    }
    case 'put': {
      const [ns, key, raw] = positional(args, 3, '<namespace> <key> <json-value>');
      const value = values.string ? raw! : jsonArg(raw!, 'value');
      // Without --version: the current one (0 when absent), i.e. "set"; a concurrent write still conflicts.
      const version = int(values, 'version') ?? (await currentVersion(() => admin.get(ns!, key!)));
      const description = values.description;
      const { entry } = await admin.put(ns!, key!, value, {
        version,
        ...(description === undefined ? {} : { description }),
      });
      ctx.print(entry);
      return EXIT.ok;
    }
    case 'delete': {
      const [ns, key] = positional(args, 2, '<namespace> <key>');
      await admin.delete(ns!, key!);
      return EXIT.ok;
    }
    case 'list': {
      const [ns] = positional(args, 1, '<namespace>');
      const entries = await admin.listAll(ns!, values.search === undefined ? {} : { search: values.search });
      ctx.print(
        ctx.output === 'table'
          ? entries.map((e) => ({
              key: e.key,
              value: e.value,
              version: e.version,
              updated_by: e.updated_by,
              updated_at: e.updated_at,
            }))
          : entries,
      );
      return EXIT.ok;
    }
    case 'history': {
      const [ns, key] = positional(args, 2, '<namespace> <key>');
      const page = int(values, 'page', 1);
      const pageSize = int(values, 'page-size', 1);
      const result = await admin.history(ns!, key!, {
        ...(page ? { page } : {}),
        ...(pageSize ? { pageSize } : {}),
      });
      ctx.print(
        ctx.output === 'table'
          ? result.history.map((h) => ({
              revision: h.revision,
              change: h.change_type,
              version: h.new_version,
              value: h.new_value,
              by: h.changed_by,
              at: h.changed_at,
            }))
          : result,
      );
      return EXIT.ok;
    }
    case 'rollback': {
      const [ns, key] = positional(args, 2, '<namespace> <key>');
      const toVersion = int(values, 'to-version', 1);
      if (toVersion === undefined) throw new UsageError('--to-version is required');
      const version = int(values, 'version') ?? (await admin.get(ns!, key!)).version;
      ctx.print(await admin.rollback(ns!, key!, { toVersion, version }));
      return EXIT.ok;
    }
    case 'watch': {
      const fromRevision = int(values, 'from-revision');
      for await (const c of admin.watch({
        namespaces: args,
        ...(fromRevision === undefined ? {} : { fromRevision }),
        ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
      }))
        ctx.io.stdout(
          renderStreamed(
            {
              revision: c.revision,
              change_type: c.changeType,
              namespace: c.namespace,
              key: c.key,
              old_value: c.oldValue ?? null,
              new_value: c.newValue ?? null,
              version: c.newVersion,
              changed_by: c.actor,
              changed_at: c.changedAt ?? null,
            },
            ctx.output,
          ),
        );
      return EXIT.ok;
    }
    case 'export': {
      const [ns] = positional(args, 1, '<namespace>');
      const format = values.format ?? 'yaml';
      if (format !== 'yaml' && format !== 'json') throw new UsageError('--format must be yaml or json');
      const text = render(toDocument(ns!, await admin.listAll(ns!)), format);
      if (values.file === undefined) ctx.io.stdout(text);
      else await writeFile(values.file, text);
      return EXIT.ok;
    }
    case 'import': {
      const [file] = positional(args, 1, '<file>');
      const doc = parseDocument(await readFile(file!, 'utf8'));
      if (values.namespace !== undefined) doc.namespace = values.namespace;
      const changes = plan(doc, await listOrEmpty(() => admin.listAll(doc.namespace)));
      ctx.io.stderr(`${doc.namespace}:\n${describePlan(changes)}\n`);
      if (!values['dry-run'])
        for (const c of changes) {
          if (c.action === 'create' || c.action === 'update')
            await admin.put(doc.namespace, c.key, c.value, {
              version: c.action === 'create' ? 0 : c.version,
              ...(c.description === undefined ? {} : { description: c.description }),
            });
        }
      const count = (action: string) => changes.filter((c) => c.action === action).length;
      ctx.print({
        namespace: doc.namespace,
        dry_run: values['dry-run'] === true,
        created: count('create'),
        updated: count('update'),
        unchanged: count('unchanged'),
        only_on_server: count('extra'),
      });
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown config command: ${command ?? '(none)'}`);
  }
}

async function currentVersion(get: () => Promise<{ version: number }>): Promise<number> {
  try {
    return (await get()).version;
  } catch (error) {
    if ((error as { kind?: string }).kind === 'not_found') return 0;
    throw error;
  }
}

async function listOrEmpty<T>(list: () => Promise<T[]>): Promise<T[]> {
  try {
    return await list();
  } catch (error) {
    if ((error as { kind?: string }).kind === 'not_found') return [];
    throw error;
  }
}

function expectedVersion(raw: string | undefined): ExpectedVersion {
  if (raw === undefined || raw === 'any') return 'any';
  if (raw === 'no_stream') return 'no_stream';
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`--expected-version must be N, no_stream or any`);
  return n;
}

async function eventsCommand(
  command: string | undefined,
  args: string[],
  values: Values,
  ctx: Ctx,
): Promise<number> {
  const client = createEventStoreClient({
    baseUrl: values['events-url'] ?? ctx.io.env.K1S0_EVENTS_URL ?? 'http://localhost:8099',
    token: ctx.token,
  });
  const eventRow = (e: {
    sequence: number;
    streamId: string;
    version: number;
    type: string;
    data: unknown;
    storedAt: string;
    id: string;
  }) => ({
    sequence: e.sequence,
    stream: e.streamId,
    version: e.version,
    type: e.type,
    data: e.data,
    stored_at: e.storedAt,
    id: e.id,
  });
  switch (command) {
    case 'append': {
      const [stream] = positional(args, 1, '<stream>');
      const type = values.type?.[0];
      if (type === undefined || values.data === undefined)
        throw new UsageError('--type and --data are required');
      const result = await client.append(
        stream!,
        [{ type, data: jsonArg(values.data, '--data'), ...(values.id ? { id: values.id } : {}) }],
        { expectedVersion: expectedVersion(values['expected-version']) },
      );
      ctx.print(ctx.output === 'table' ? result.events.map(eventRow) : result);
      return EXIT.ok;
    }
    case 'read': {
      const [stream] = positional(args, 1, '<stream>');
      const fromVersion = int(values, 'from-version', 1);
      const toVersion = int(values, 'to-version', 1);
      const pageSize = int(values, 'page-size', 1);
      const events = [];
      for await (const page of client.read(stream!, {
        ...(fromVersion ? { fromVersion } : {}),
        ...(toVersion ? { toVersion } : {}),
        ...(pageSize ? { pageSize } : {}),
        ...(values.type?.[0] ? { eventType: values.type[0] } : {}),
      }))
        events.push(...page);
      ctx.print(ctx.output === 'table' ? events.map(eventRow) : events);
      return EXIT.ok;
    }
    case 'tail': {
      // Default: from the end of the log (found by paging the global log), like `tail -f`.
      const from = int(values, 'from-sequence') ?? (await endOfLog(client));
      for await (const e of client.subscribeAll({
        from,
        eventTypes: values.type ?? [],
        ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
      }))
        ctx.io.stdout(renderStreamed(eventRow(e), ctx.output));
      return EXIT.ok;
    }
    case 'streams': {
      // There is no list-streams API: this scans the global log (sys_auditor) and summarises it.
      const streams = new Map<
        string,
        { stream: string; events: number; version: number; last_type: string; last_sequence: number }
      >();
      for (let from = int(values, 'from-sequence') ?? 0; ; ) {
        const page = await client.readAll(from, { limit: 1000 });
        for (const e of page.events) {
          const s = streams.get(e.streamId) ?? {
            stream: e.streamId,
            events: 0,
            version: 0,
            last_type: '',
            last_sequence: 0,
          };
          s.events++;
          s.version = e.version;
          s.last_type = e.type;
          s.last_sequence = e.sequence;
          streams.set(e.streamId, s);
        }
        if (page.events.length === 0) break;
        from = page.nextSequence;
      }
      ctx.print([...streams.values()].sort((a, b) => a.stream.localeCompare(b.stream)));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown events command: ${command ?? '(none)'}`);
  }
}

async function endOfLog(client: ReturnType<typeof createEventStoreClient>): Promise<number> {
  let from = 0;
  for (;;) {
    const page = await client.readAll(from, { limit: 1000 });
    if (page.events.length === 0) return from;
    from = page.nextSequence;
  }
}
