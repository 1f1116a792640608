// The generator refuses zod it cannot turn into a structural CRD schema, naming the field, rather
// than writing a CRD the apiserver would reject or silently prune.
import { z } from 'zod';
import { toOpenAPI } from './openapi.js';

test('integer-or-string unions become x-kubernetes-int-or-string with both limits', () => {
  const schema = z.object({ port: z.union([z.int().min(1), z.string().max(15)]).describe('A port.') });
  expect(toOpenAPI(schema, 'T').properties?.port).toEqual({
    description: 'A port.',
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    minimum: 1,
    maxLength: 15,
  });
});

test('maps become typed additionalProperties, and unknown keys of strict objects are left to the apiserver', () => {
  const schema = z.strictObject({ labels: z.record(z.string(), z.string()).optional().describe('Labels.') });
  expect(toOpenAPI(schema, 'T')).toEqual({
    type: 'object',
    properties: { labels: { type: 'object', description: 'Labels.', additionalProperties: { type: 'string' } } },
  });
});

test.each([
  ['a field without a description', z.object({ name: z.string() }), 'T.name has no description'],
  ['a union other than integer or string', z.object({ v: z.union([z.string(), z.boolean()]).describe('V.') }), 'T.v: the only union'],
  ['an object without fields', z.object({ o: z.object({}).describe('O.') }), 'T.o: an object needs properties'],
  ['a nullable field', z.object({ n: z.string().nullable().describe('N.') }), 'T.n: "nullable" cannot be expressed'],
])('%s is refused', (_what, schema, message) => {
  expect(() => toOpenAPI(schema, 'T')).toThrow(message);
});
