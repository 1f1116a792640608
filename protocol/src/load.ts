// Loads agent.proto at run time with @grpc/proto-loader (no generated code to keep in step).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lattice/agent/v1/agent.proto');

/** How messages are decoded; the zod schemas in messages.ts describe exactly this shape. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

/**
 * A bundle (hack/bundles.ts: the release images, the agent's single executable) has no file beside
 * it to read: the bundler defines this as agent.proto parsed at build time (protobufjs JSON, field
 * names camelCased as loadSync's keepCase: false does). Run from source it is undefined and the
 * file is read.
 */
declare const LATTICE_EMBEDDED_PROTO: string | undefined;

const definition =
  typeof LATTICE_EMBEDDED_PROTO === 'string'
    ? protoLoader.fromJSON(JSON.parse(LATTICE_EMBEDDED_PROTO) as Parameters<typeof protoLoader.fromJSON>[0], LOADER_OPTIONS)
    : protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  lattice: { agent: { v1: { Gateway: grpc.ServiceClientConstructor } } };
};

/** The Gateway service: pass `.service` to Server.addService, construct it for a client. */
export const GatewayService = loaded.lattice.agent.v1.Gateway;

/** The client side of the Gateway service, as proto-loader builds it (untyped messages: parse them). */
export interface GatewayClient extends grpc.Client {
  Join(request: unknown, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response: unknown) => void): grpc.ClientUnaryCall;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<unknown, unknown>;
  Registry(options?: grpc.CallOptions): grpc.ClientDuplexStream<unknown, unknown>;
  Renew(request: unknown, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response: unknown) => void): grpc.ClientUnaryCall;
}

const connect = (definition['lattice.agent.v1.Gateway'] as Record<string, protoLoader.MethodDefinition<unknown, unknown>>).Connect!;

/** The bytes a GatewayMessage takes on the wire, as grpc-js will encode it. */
export function encodedSize(message: unknown): number {
  return connect.responseSerialize(message).length;
}

export function gatewayClient(address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): GatewayClient {
  return new GatewayService(address, credentials, options) as unknown as GatewayClient;
}
