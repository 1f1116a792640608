// The shape of every request the API accepts. Workload fields use the same zod schemas as the CRDs
// (and as the deploy form), so a request the console accepts is one the apiserver would accept.
import { ObjectName, WorkloadSpec } from '@lattice/crds';
import { z } from 'zod';

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

export const WorkloadParams = z.strictObject({ namespace: NamespaceName, name: ObjectName });

export const CreateWorkload = z.strictObject({ name: ObjectName, spec: WorkloadSpec });

/** Deleting asks the browser to repeat the name, so a stale or mistaken click cannot delete. */
export const DeleteWorkload = z.strictObject({ confirm: z.string() });

export const Suspend = z.strictObject({ suspend: z.boolean() });
