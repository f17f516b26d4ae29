// Floor: the least a @grpc/grpc-js unary server can do with our proto (decode, answer {result:{}}).
import { loadPackageDefinition, Server, ServerCredentials, type GrpcObject, type ServiceClientConstructor, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { LOADER_OPTIONS, PROTO_FILE } from '../../src/transport/grpc/proto.js';

// The service's own loader options, so both decode the request the same way.
const definition = loadSync(PROTO_FILE, LOADER_OPTIONS);
const root = loadPackageDefinition(definition) as GrpcObject;
const Service = (((root.centrifugal as GrpcObject).centrifugo as GrpcObject).proxy as GrpcObject).CentrifugoProxy as ServiceClientConstructor;
const server = new Server();
const answer: UntypedServiceImplementation[string] = (_call: unknown, callback: (e: null, v: unknown) => void) => callback(null, { result: {} });
server.addService(Service.service, { Subscribe: answer, Connect: answer } as UntypedServiceImplementation);
server.bindAsync(`127.0.0.1:${process.env.GRPC_PORT ?? 0}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.send?.({ ready: true, grpcPort: port });
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
