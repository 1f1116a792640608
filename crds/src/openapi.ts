// zod → the structural OpenAPI v3 schema a CustomResourceDefinition needs. zod's own JSON Schema
// output is the base; this pass removes what the apiserver does not accept, turns int|string
// unions into x-kubernetes-int-or-string, and refuses anything else it cannot represent, so that
// a new zod construct fails here rather than at `kubectl apply` of the CRD.
import { z } from 'zod';

export interface OpenAPISchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, OpenAPISchema>;
  items?: OpenAPISchema;
  additionalProperties?: OpenAPISchema;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  anyOf?: OpenAPISchema[];
  [keyword: string]: unknown;
}

// Validation keywords passed through unchanged, in the order they are written out.
const VALUE_KEYWORDS = [
  'format',
  'enum',
  'default',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
];
const STRUCTURE_KEYWORDS = ['type', 'description', 'properties', 'required', 'items', 'additionalProperties', 'anyOf'];

/** The structural OpenAPI schema of `schema`; `at` names it in errors, e.g. `Workload.spec`. */
export function toOpenAPI(schema: z.ZodType, at: string): OpenAPISchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' });
  return structural(json as OpenAPISchema, at);
}

function structural(node: OpenAPISchema, at: string): OpenAPISchema {
  for (const keyword of Object.keys(node)) {
    if (!keyword.startsWith('x-kubernetes-') && !VALUE_KEYWORDS.includes(keyword) && !STRUCTURE_KEYWORDS.includes(keyword)) {
      throw new Error(`${at}: "${keyword}" cannot be expressed in a CRD schema`);
    }
  }
  if (node.anyOf) return intOrString(node, at);
  if (!node.type) throw new Error(`${at}: every node of a structural schema needs a type`);

  const out: OpenAPISchema = { type: node.type };
  if (node.description !== undefined) out.description = node.description;
  for (const keyword of VALUE_KEYWORDS) {
    if (node[keyword] !== undefined) out[keyword] = node[keyword];
  }
  // z.int() carries the safe-integer range, which says nothing to a user.
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  // The apiserver checks the date-time format itself; zod's equivalent regular expression is noise.
  if (out.format === 'date-time') delete out.pattern;

  if (node.type === 'object') {
    const fields = Object.entries(node.properties ?? {});
    if (fields.length > 0) {
      out.properties = {};
      for (const [name, property] of fields) {
        if (!property.description) throw new Error(`${at}.${name} has no description: add .describe() to its schema`);
        out.properties[name] = structural(property, `${at}.${name}`);
      }
      if (node.required?.length) out.required = node.required;
    } else if (node.additionalProperties) {
      out.additionalProperties = structural(node.additionalProperties, `${at}[*]`);
    } else {
      throw new Error(`${at}: an object needs properties or typed additionalProperties, or the apiserver prunes its contents`);
    }
    // additionalProperties: false (from strict zod objects) is implied: the apiserver refuses or
    // prunes unknown fields of a structural schema.
  }
  if (node.type === 'array') {
    if (!node.items) throw new Error(`${at}: an array needs items`);
    out.items = structural(node.items, `${at}[]`);
  }
  return withExtensions(out, node);
}

/** z.union([z.int(), z.string()]): the apiserver's int-or-string, with each branch's limits. */
function intOrString(node: OpenAPISchema, at: string): OpenAPISchema {
  const types = node.anyOf?.map((branch) => branch.type).sort();
  if (types?.join() !== 'integer,string') {
    throw new Error(`${at}: the only union a CRD schema can express is integer or string, not ${types?.join(' or ')}`);
  }
  const out: OpenAPISchema = {};
  if (node.description !== undefined) out.description = node.description;
  out['x-kubernetes-int-or-string'] = true;
  out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  for (const branch of node.anyOf ?? []) {
    const { type: _type, ...limits } = structural(branch, at);
    Object.assign(out, limits);
  }
  return withExtensions(out, node);
}

function withExtensions(out: OpenAPISchema, node: OpenAPISchema): OpenAPISchema {
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword.startsWith('x-kubernetes-')) out[keyword] = value;
  }
  return out;
}
