import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// The official Node gRPC client (grpc-js) with the upstream .proto files loaded at run time: what
// a Kubernetes probe, grpcurl or grpc-health-probe sees, knowing nothing of Connect.
const protoRoot = fileURLToPath(new URL('../../../../api/proto', import.meta.url));

const loadOptions = {
  includeDirs: [protoRoot],
  keepCase: true,
  enums: String,
  longs: String,
  defaults: true,
};

type Loaded = Record<string, unknown>;
function serviceCtor(files: string[], path: string): grpc.ServiceClientConstructor {
  let node: unknown = grpc.loadPackageDefinition(protoLoader.loadSync(files, loadOptions));
  for (const part of path.split('.')) node = (node as Loaded)[part];
  return node as grpc.ServiceClientConstructor;
}

export interface GrpcStatusError {
  code: number;
  details: string;
}

type UnaryFn = (request: object, callback: (error: GrpcStatusError | null, response: Loaded) => void) => void;

export interface ReflectionReply {
  valid_host: string;
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

export interface GrpcDiscoveryClient {
  /** `grpc.health.v1.Health/Check`; resolves to the status name, e.g. 'SERVING'. */
  check(service: string): Promise<string>;
  /** `Health/Watch`: statuses as they arrive; `cancel` ends the call. */
  watch(service: string): { statuses: string[]; ended: Promise<GrpcStatusError | undefined>; cancel(): void };
  /** One `ServerReflectionInfo` round trip on `grpc.reflection.<version>`. */
  reflect(version: 'v1' | 'v1alpha', request: object): Promise<ReflectionReply>;
  close(): void;
}

export function grpcDiscoveryClient(port: number): GrpcDiscoveryClient {
  const address = `127.0.0.1:${port}`;
  const credentials = grpc.credentials.createInsecure();
  const Health = serviceCtor(['grpc/health/v1/health.proto'], 'grpc.health.v1.Health');
  const health = new Health(address, credentials) as grpc.Client & Record<string, UnaryFn>;
  const reflection = {
    v1: new (serviceCtor(['grpc/reflection/v1/reflection.proto'], 'grpc.reflection.v1.ServerReflection'))(
      address,
      credentials,
    ),
    v1alpha: new (serviceCtor(
      ['grpc/reflection/v1alpha/reflection.proto'],
      'grpc.reflection.v1alpha.ServerReflection',
    ))(address, credentials),
  };
  return {
    check(service) {
      return new Promise((resolve, reject) => {
        health.Check!({ service }, (error, response) =>
          error ? reject(error) : resolve(String(response.status)),
        );
      });
    },
    watch(service) {
      const call = (health as unknown as Record<string, (r: object) => grpc.ClientReadableStream<Loaded>>)
        .Watch!({ service });
      const statuses: string[] = [];
      call.on('data', (message: Loaded) => statuses.push(String(message.status)));
      const ended = new Promise<GrpcStatusError | undefined>((resolve) => {
        call.on('error', (error: GrpcStatusError) => resolve(error));
        call.on('end', () => resolve(undefined));
      });
      return { statuses, ended, cancel: () => call.cancel() };
    },
    reflect(version, request) {
      const client = reflection[version] as unknown as Record<
        string,
        () => grpc.ClientDuplexStream<object, ReflectionReply>
      >;
      const call = client.ServerReflectionInfo!();
      return new Promise((resolve, reject) => {
        call.once('data', (reply: ReflectionReply) => {
          resolve(reply);
          call.end();
        });
        call.on('error', reject);
        call.write(request);
      });
    },
    close() {
      health.close();
      reflection.v1.close();
      reflection.v1alpha.close();
    },
  };
}

/**
 * Loads FileDescriptorProtos returned by reflection the way grpcurl does (no .proto files) and
 * returns the named service's client constructor: the proof that the descriptors are complete.
 */
export function serviceFromReflection(files: Buffer[], serviceName: string): grpc.ServiceClientConstructor {
  // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`: each file as field 1, length-delimited.
  const set = Buffer.concat(files.flatMap((file) => [Buffer.from([0x0a]), varint(file.length), file]));
  const definition = protoLoader.loadFileDescriptorSetFromBuffer(set, loadOptions);
  const service = definition[serviceName];
  // Messages and enums carry a `format`; a service definition is a map of methods.
  if (service === undefined || 'format' in service) {
    throw new Error(`${serviceName} is not a service in the reflected files`);
  }
  let node: unknown = grpc.loadPackageDefinition(definition);
  for (const part of serviceName.split('.')) node = (node as Loaded)[part];
  return node as grpc.ServiceClientConstructor;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
