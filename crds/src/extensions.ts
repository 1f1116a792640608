// Kubernetes OpenAPI extensions attached to zod schemas with `.meta()`, so that a rule lives next to
// the field it guards. The CRD generator copies these keys verbatim into the OpenAPI schema; the
// zod twin of each rule (`check`) gives the console the same verdict before anything is sent.
import { z } from 'zod';

/** One entry of `x-kubernetes-validations`: a CEL rule the apiserver evaluates on every write. */
export interface CelValidation {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** JSONPath (relative to the schema the rule sits on) of the field the error is reported on. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /** Evaluate on create too, with `oldSelf` an optional (`oldSelf.hasValue()` is false on create). */
  optionalOldSelf?: boolean;
}

declare module 'zod' {
  interface GlobalMeta {
    'x-kubernetes-validations'?: CelValidation[];
    'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
    'x-kubernetes-list-map-keys'?: string[];
  }
}

export interface Rule<T> extends CelValidation {
  /** The message shown by both the apiserver and zod. */
  message: string;
  /**
   * The same rule in TypeScript, run by zod. Omitted only for transition rules (they compare with
   * the stored object, which only the apiserver has).
   */
  check?: (value: T) => boolean;
}

/**
 * Adds CEL rules to a schema (after any it already has) and their zod twins as refinements. The zod
 * issue goes to the same field as the apiserver's error (`fieldPath`).
 */
export function withRules<S extends z.ZodType>(schema: S, ...rules: Rule<z.output<S>>[]): S {
  let result = schema;
  for (const { check, ...cel } of rules) {
    if (check) {
      const path = cel.fieldPath?.split('.').filter(Boolean);
      result = result.refine(check, { message: cel.message, ...(path && { path }) }) as S;
    }
  }
  const existing = result.meta()?.['x-kubernetes-validations'] ?? [];
  const validations = rules.map(({ check: _check, ...cel }) => cel);
  return result.meta({ 'x-kubernetes-validations': [...existing, ...validations] }) as S;
}

/**
 * A list whose items are identified by `key` (ports by name, env by name, conditions by type):
 * server-side apply merges such lists item by item instead of replacing them, and the apiserver
 * refuses two items with the same key.
 */
export function keyedList<I extends z.ZodObject, K extends keyof z.output<I> & string>(
  item: I,
  key: K,
  maxItems: number,
) {
  return z
    .array(item)
    .max(maxItems)
    .refine((items) => new Set(items.map((i) => i[key])).size === items.length, {
      message: `each ${key} must be unique`,
    })
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [key] });
}
