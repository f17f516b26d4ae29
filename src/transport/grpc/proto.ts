/** Loads our CentrifugoProxy proto once for the server (and for tests' clients). */
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROTO_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../proto/centrifugo_proxy.proto');
export const SERVICE_NAME = 'centrifugal.centrifugo.proxy.CentrifugoProxy';

/** keepCase: proto field names as Centrifugo uses them; defaults: absent scalars read as "", 0, false. */
export const LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, bytes: Buffer } as const;

let definition: PackageDefinition | undefined;

export function proxyPackageDefinition(): PackageDefinition {
  definition ??= loadSync(PROTO_FILE, LOADER_OPTIONS);
  return definition;
}

export function proxyServiceClient(): ServiceClientConstructor {
  const root = loadPackageDefinition(proxyPackageDefinition()) as GrpcObject;
  const proxy = ((root.centrifugal as GrpcObject).centrifugo as GrpcObject).proxy as GrpcObject;
  return proxy.CentrifugoProxy as ServiceClientConstructor;
}
