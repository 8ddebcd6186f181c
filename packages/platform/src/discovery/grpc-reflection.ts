import {
  createRegistry,
  type DescExtension,
  type DescFile,
  type DescService,
  toBinary,
} from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, type ConnectRouter } from '@connectrpc/connect';
import { grpcReflectionV1, grpcReflectionV1alpha } from '@k1s0/proto';

/** A ServerReflectionRequest of either protocol version (the two are wire-identical). */
type ReflectionRequest =
  | grpcReflectionV1.ServerReflectionRequest
  | grpcReflectionV1alpha.ServerReflectionRequest;

/** The response oneof both versions share, without the version-specific message names. */
type ReflectionAnswer =
  | { case: 'listServicesResponse'; value: { service: { name: string }[] } }
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'allExtensionNumbersResponse'; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

/**
 * What reflection knows: the served services and every file they are defined in, with all their
 * imports, as the FileDescriptorProtos protobuf-es embeds in the generated code. Built once.
 */
export class ReflectionIndex {
  readonly serviceNames: ReadonlySet<string>;
  /** By file name as in `import`, e.g. `grpc/health/v1/health.proto`. */
  private readonly files = new Map<string, DescFile>();
  private readonly registry;

  constructor(services: readonly DescService[]) {
    this.serviceNames = new Set(services.map((s) => s.typeName).sort());
    const visit = (file: DescFile) => {
      if (this.files.has(file.proto.name)) return;
      this.files.set(file.proto.name, file);
      for (const dependency of file.dependencies) visit(dependency);
    };
    for (const service of services) visit(service.file);
    this.registry = createRegistry(...this.files.values());
  }

  answer(request: ReflectionRequest): ReflectionAnswer {
    const { messageRequest } = request;
    switch (messageRequest.case) {
      case 'listServices':
        return {
          case: 'listServicesResponse',
          value: { service: [...this.serviceNames].map((name) => ({ name })) },
        };
      case 'fileByFilename': {
        const file = this.files.get(messageRequest.value);
        return file ? this.withImports(file) : notFound(`file not found: ${messageRequest.value}`);
      }
      case 'fileContainingSymbol': {
        const file = this.fileOfSymbol(messageRequest.value);
        return file ? this.withImports(file) : notFound(`symbol not found: ${messageRequest.value}`);
      }
      case 'fileContainingExtension': {
        const { containingType, extensionNumber } = messageRequest.value;
        const extension = this.extensionsOf(containingType).find((e) => e.number === extensionNumber);
        return extension
          ? this.withImports(extension.file)
          : notFound(`extension ${extensionNumber} of ${containingType} not found`);
      }
      case 'allExtensionNumbersOfType': {
        const typeName = messageRequest.value;
        if (this.registry.getMessage(typeName) === undefined) return notFound(`type not found: ${typeName}`);
        return {
          case: 'allExtensionNumbersResponse',
          value: {
            baseTypeName: typeName,
            extensionNumber: this.extensionsOf(typeName).map((e) => e.number),
          },
        };
      }
      default:
        return {
          case: 'errorResponse',
          value: { errorCode: Code.InvalidArgument, errorMessage: 'empty reflection request' },
        };
    }
  }

  /** A service, method, message, enum or extension by full name; a method is `Service.Method`. */
  private fileOfSymbol(symbol: string): DescFile | undefined {
    const found = this.registry.get(symbol);
    if (found) return found.file;
    const dot = symbol.lastIndexOf('.');
    const service = dot > 0 ? this.registry.getService(symbol.slice(0, dot)) : undefined;
    return service?.methods.some((m) => m.name === symbol.slice(dot + 1)) ? service.file : undefined;
  }

  private extensionsOf(typeName: string) {
    return [...this.registry].filter(
      (d): d is DescExtension => d.kind === 'extension' && d.extendee.typeName === typeName,
    );
  }

  /** The file first, then everything it imports transitively, as grpcurl and grpc-go expect. */
  private withImports(file: DescFile): ReflectionAnswer {
    const ordered: DescFile[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      ordered.push(f);
      for (const dependency of f.dependencies) visit(dependency);
    };
    visit(file);
    return {
      case: 'fileDescriptorResponse',
      value: { fileDescriptorProto: ordered.map((f) => toBinary(FileDescriptorProtoSchema, f.proto)) },
    };
  }
}

function notFound(message: string): ReflectionAnswer {
  return { case: 'errorResponse', value: { errorCode: Code.NotFound, errorMessage: message } };
}

function responseOf<R extends ReflectionRequest>(request: R, answer: ReflectionAnswer) {
  return { validHost: request.host, originalRequest: request, messageResponse: answer };
}

/**
 * gRPC server reflection, `grpc.reflection.v1` and (for older grpcurl and tools)
 * `grpc.reflection.v1alpha`, over `services` — so `grpcurl` needs no `-proto` flags.
 */
export function registerReflection(router: ConnectRouter, index: () => ReflectionIndex): void {
  router.service(grpcReflectionV1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield responseOf(request, index().answer(request));
    },
  });
  router.service(grpcReflectionV1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield responseOf(request, index().answer(request));
    },
  });
}
