// Bad manifests made from a CRD's own schema: for every field, each way its schema says a value
// is wrong (the wrong type, past a bound, out of an enum, too long, not matching its pattern, a
// field it does not declare), applied to a valid manifest. The apiserver must refuse each one and
// name the field, whatever field is added later: the list grows with the schema.
import type { OpenAPISchema } from '../../crds/src/openapi.js';

export interface BadValue {
  /** Where, as the apiserver names a field: spec.ports[0].port. */
  field: string;
  path: (string | number)[];
  value: unknown;
  /** What is wrong, for the test's name. */
  why: string;
}

const name = (path: (string | number)[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/** Every bad value the schema describes, for the field at `path` and the fields inside it. */
export function* badValues(schema: OpenAPISchema, path: (string | number)[]): Generator<BadValue> {
  const at = (value: unknown, why: string, where = path): BadValue => ({ field: name(where), path: where, value, why });
  if (schema['x-kubernetes-int-or-string'] || schema['x-kubernetes-preserve-unknown-fields']) return;
  switch (schema.type) {
    case 'integer':
    case 'number': {
      yield at('seven', 'a string for a number');
      if (schema.type === 'integer') yield at(1.5, 'a fraction for an integer');
      if (typeof schema.minimum === 'number') yield at(schema.minimum - 1, `below its minimum ${schema.minimum}`);
      if (typeof schema.maximum === 'number') yield at(schema.maximum + 1, `above its maximum ${schema.maximum}`);
      return;
    }
    case 'string': {
      yield at(12345, 'a number for a string');
      if (schema.enum) yield at('not-one-of-them', `out of its enum`);
      if (typeof schema.maxLength === 'number') yield at('a'.repeat(schema.maxLength + 1), `longer than ${schema.maxLength}`);
      if (typeof schema.minLength === 'number' && schema.minLength > 0) yield at('', 'empty');
      const bad = ' not\tvalid !';
      if (typeof schema.pattern === 'string' && !schema.enum && !new RegExp(schema.pattern).test(bad)) yield at(bad, 'not matching its pattern');
      return;
    }
    case 'boolean':
      yield at('yes', 'a string for a boolean');
      return;
    case 'array':
      yield at('one, two', 'a string for a list');
      if (schema.items) yield* badValues(schema.items, [...path, 0]);
      return;
    case 'object':
      yield at(['a', 'list'], 'a list for an object');
      if (schema.properties) {
        yield at(true, 'a field the schema does not declare', [...path, 'notAField']);
        for (const [key, property] of Object.entries(schema.properties)) yield* badValues(property, [...path, key]);
      } else if (schema.additionalProperties) {
        yield* badValues(schema.additionalProperties, [...path, 'key']);
      }
      return;
  }
}

/** `manifest` with `value` at `path`; missing objects and first list items on the way are made. */
export function withValue(manifest: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(manifest);
  let node: Record<string | number, unknown> = copy;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = path[i + 1];
    const existing = node[key];
    if (typeof next === 'number' ? !Array.isArray(existing) : typeof existing !== 'object' || existing === null || Array.isArray(existing)) {
      node[key] = typeof next === 'number' ? [{}] : {};
    } else if (typeof next === 'number' && (existing as unknown[]).length === 0) {
      (existing as unknown[]).push({});
    }
    node = node[key] as Record<string | number, unknown>;
  });
  return copy;
}
