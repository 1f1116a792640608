// Whatever arrives on the stream, either way, is refused cleanly: bytes that are not a message fail
// to decode with an Error (grpc-js ends that call), and a decoded message outside the schema is a
// failed parse, never a throw or a crash of the process that reads it.
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { LOADER_OPTIONS, PROTO_PATH } from './load.js';
import { AgentMessageSchema, GatewayMessageSchema, JoinRequestSchema, PodSchema, RenewRequestSchema } from './messages.js';

const service = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS)['lattice.agent.v1.Gateway'] as Record<string, protoLoader.MethodDefinition<unknown, unknown>>;
const connect = service.Connect!;

/** Decodes `bytes` as grpc-js would; undefined when they are not a message (an Error, as grpc-js expects). */
function decode(bytes: Uint8Array, as: (b: Buffer) => unknown): unknown {
  try {
    return as(Buffer.from(bytes));
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return undefined;
  }
}

const RUNS = { numRuns: 2_000 };

describe('messages from a stranger', () => {
  test.each([
    ['an agent', connect.requestDeserialize, AgentMessageSchema],
    ['a gateway', connect.responseDeserialize, GatewayMessageSchema],
  ] as const)('random bytes from %s decode or fail with an Error, and the schema refuses or takes them without throwing', (_from, deserialize, schema) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const decoded = decode(bytes, deserialize);
        if (decoded !== undefined) schema.safeParse(decoded);
      }),
      RUNS,
    );
  });

  test('any value is refused by the schemas without a throw, unless it is a message', () => {
    const schemas = [AgentMessageSchema, GatewayMessageSchema, JoinRequestSchema, RenewRequestSchema, PodSchema];
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), (value) => {
        for (const schema of schemas) expect(schema.safeParse(value).success).toBe(false);
      }),
      RUNS,
    );
  });

  test('a message with a known kind but fields of the wrong shape is refused, naming them', () => {
    fc.assert(
      fc.property(fc.constantFrom('podStatus', 'podEvent', 'offer', 'serviceDial', 'streamData'), fc.anything(), (msg, body) => {
        const parsed = AgentMessageSchema.safeParse({ msg, [msg]: body });
        if (!parsed.success) expect(parsed.error.issues.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });
});
