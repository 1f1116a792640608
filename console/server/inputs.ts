// The shape of every request the API accepts. Specs are checked with the same zod schemas as the
// CRDs (and as the deploy form), so a request the console accepts is one the apiserver would accept.
import { ObjectName } from '@lattice/crds';
import { z } from 'zod';
import { PLURALS } from './kinds.js';

/** A DNS-1123 label: the syntax of a namespace name. */
export const NamespaceName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name: lower-case letters, digits and dashes');

export const SignIn = z.strictObject({
  token: z.string().trim().min(1, 'paste a Kubernetes bearer token').max(16_384),
});

export const NamespaceParams = z.strictObject({ namespace: NamespaceName });

export const CollectionParams = z.strictObject({ namespace: NamespaceName, plural: z.enum(PLURALS) });

export const ItemParams = z.strictObject({ namespace: NamespaceName, plural: z.enum(PLURALS), name: ObjectName });

export const NamedParams = z.strictObject({ namespace: NamespaceName, name: ObjectName });

/** Deleting asks the browser to repeat the name, so a stale or mistaken click cannot delete. */
export const DeleteResource = z.strictObject({ confirm: z.string() });

export const Suspend = z.strictObject({ suspend: z.boolean() });

export const Scale = z.strictObject({ replicas: z.int().min(0).max(100) });

export const PodParams = z.strictObject({ namespace: NamespaceName, pod: ObjectName });

export const LogQuery = z.strictObject({
  container: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63).optional(),
  previous: z.enum(['true', 'false']).default('false'),
  follow: z.enum(['true', 'false']).default('true'),
  tailLines: z.coerce.number().int().min(1).max(10_000).default(1000),
});
