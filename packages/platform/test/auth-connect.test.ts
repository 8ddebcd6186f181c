import {
  create,
  createFileRegistry,
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  type DescService,
} from '@bufbuild/protobuf';
import { FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, createClient, createRouterTransport } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import {
  authInterceptor,
  createCallerGate,
  createTokenVerifier,
  type Denial,
  devTokenClaims,
  principalFromContext,
  type Role,
  type RpcRoleRequirement,
  signDevToken,
} from '../src/auth/index.js';
import { codeOf } from '../src/testing/connect-code.js';

const SECRET = 'connect-test-secret';

// A tiny in-test service, so the interceptor runs inside a real Connect router and client.
const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'authtest/v1/echo.proto',
    package: 'authtest.v1',
    syntax: 'proto3',
    messageType: [
      { name: 'EchoRequest' },
      {
        name: 'EchoResponse',
        field: [{ name: 'actor', jsonName: 'actor', number: 1, type: FieldDescriptorProto_Type.STRING }],
      },
    ],
    service: [
      {
        name: 'EchoService',
        method: ['Health', 'Read', 'Delete', 'Watch'].map((name) => ({
          name,
          inputType: '.authtest.v1.EchoRequest',
          outputType: '.authtest.v1.EchoResponse',
        })),
      },
    ],
  }),
  () => undefined,
);
const service = registry.getService('authtest.v1.EchoService') as DescService;
const responseSchema = registry.getMessage('authtest.v1.EchoResponse') as DescMessage;

const isUnary = (m: DescMethod): m is DescMethodUnary => m.methodKind === 'unary';

function method(name: string): DescMethodUnary {
  const found = service.methods.find((m) => m.name === name);
  if (!found || !isUnary(found)) throw new Error(`no unary method ${name}`);
  return found;
}

const rolesByMethod = (serviceName: string, method: string): RpcRoleRequirement => {
  expect(serviceName).toBe('authtest.v1.EchoService');
  const table: Record<string, RpcRoleRequirement> = {
    Health: 'public',
    Read: 'sys_auditor',
    Delete: 'sys_admin',
    Watch: 'authenticated',
  };
  return table[method] ?? 'sys_admin';
};

const transport = createRouterTransport(
  (router) => {
    const echoActor = (_req: unknown, ctx: Parameters<typeof principalFromContext>[0]) =>
      create(responseSchema, { actor: principalFromContext(ctx).actor });
    router.rpc(method('Health'), () => create(responseSchema, { actor: 'nobody' }));
    router.rpc(method('Read'), echoActor);
    router.rpc(method('Delete'), echoActor);
    router.rpc(method('Watch'), echoActor);
  },
  {
    router: {
      interceptors: [
        authInterceptor(createTokenVerifier({ devSecret: SECRET, appEnv: 'dev' }), rolesByMethod),
      ],
    },
  },
);
const client = createClient(service, transport);

type CallOptions = { headers: Record<string, string> };
function call(name: 'health' | 'read' | 'delete' | 'watch', options?: CallOptions): Promise<unknown> {
  const rpc = client[name];
  if (!rpc) throw new Error(`no client method ${name}`);
  return (rpc as (request: object, options?: CallOptions) => Promise<unknown>)({}, options);
}

function headersFor(roles: Role[] | string): CallOptions {
  const token =
    typeof roles === 'string'
      ? roles
      : signDevToken(devTokenClaims({ roles, email: 'dora@example.com' }), SECRET);
  return { headers: { authorization: `Bearer ${token}` } };
}

describe('authInterceptor', () => {
  it('passes public methods without a token', async () => {
    expect(await call('health')).toMatchObject({ actor: 'nobody' });
  });

  it('answers UNAUTHENTICATED without a token, or with an invalid one', async () => {
    expect(await codeOf(call('read'))).toBe(Code.Unauthenticated);
    expect(await codeOf(call('read', headersFor('not.a.token')))).toBe(Code.Unauthenticated);
    const forged = signDevToken(devTokenClaims({ roles: ['sys_admin'] }), 'wrong-secret');
    expect(await codeOf(call('read', headersFor(forged)))).toBe(Code.Unauthenticated);
  });

  it('answers PERMISSION_DENIED for an insufficient role', async () => {
    expect(await codeOf(call('delete', headersFor(['sys_operator'])))).toBe(Code.PermissionDenied);
    expect(await codeOf(call('read', headersFor([])))).toBe(Code.PermissionDenied);
  });

  it('hands the principal to the handler through principalKey', async () => {
    expect(await call('read', headersFor(['sys_operator']))).toMatchObject({ actor: 'dora@example.com' });
    expect(await call('delete', headersFor(['sys_admin']))).toMatchObject({ actor: 'dora@example.com' });
    expect(await call('watch', headersFor([]))).toMatchObject({ actor: 'dora@example.com' });
  });
});

describe('authInterceptor refusal reports', () => {
  it('names the RPC as /<service>/<method> with protocol grpc', async () => {
    const denials: Denial[] = [];
    const gate = createCallerGate({
      tokens: createTokenVerifier({ devSecret: SECRET, appEnv: 'dev' }),
      onDenied: (denial) => denials.push(denial),
    });
    const audited = createClient(
      service,
      createRouterTransport(
        (router) => {
          router.rpc(method('Delete'), () => create(responseSchema, { actor: 'x' }));
        },
        { router: { interceptors: [authInterceptor(gate, rolesByMethod)] } },
      ),
    );
    const remove = audited.delete as unknown as (request: object, options?: CallOptions) => Promise<unknown>;
    expect(await codeOf(remove({}, headersFor(['sys_operator'])))).toBe(Code.PermissionDenied);
    expect(await codeOf(remove({}))).toBe(Code.Unauthenticated);
    expect(denials).toMatchObject([
      {
        kind: 'permission_denied',
        actor: 'dora@example.com',
        operation: '/authtest.v1.EchoService/Delete',
        protocol: 'grpc',
        required: 'sys_admin',
      },
      { kind: 'unauthenticated', operation: '/authtest.v1.EchoService/Delete', protocol: 'grpc' },
    ]);
  });
});
