// Pieces shared by every Lattice kind, defined once so that `resources`, `env`, `expose` and
// `conditions` read the same in a Workload, a PostgresInstance and a CronWorkload.
import { z } from 'zod';
import { keyedList, withRules } from './extensions.js';

/** A DNS-1123 subdomain: the name of a Secret or ConfigMap. */
export const ObjectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);

/** A container image reference: no spaces, at most 512 characters. */
export const ImageReference = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[^\s]+$/, 'must be an image reference without spaces, e.g. registry.example.com/team/redis:7');

/**
 * Secrets of type kubernetes.io/dockerconfigjson with the credentials of private registries: the
 * provider's engine pulls the image with them, as a kubelet does with a pod's imagePullSecrets.
 */
export const ImagePullSecrets = keyedList(z.strictObject({ name: ObjectName.describe('Name of the Secret, in the same namespace.') }), 'name', 16).describe(
  'Secrets (type kubernetes.io/dockerconfigjson) with the credentials the image is pulled with, for a private registry.',
);

/** A key in a Secret's or ConfigMap's data. */
const DataKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/);

/** A name for a port or a volume, unique within its list (IANA service name syntax, as for container ports). */
export const ShortName = z
  .string()
  .min(1)
  .max(15)
  .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);

/** An RFC 3339 timestamp, as in every Kubernetes status. */
export const Timestamp = z.iso.datetime();

/** How far a network endpoint is reachable. */
export const Expose = z
  .enum(['none', 'tailnet', 'public'])
  .describe(
    'Who can reach it: none (only other workloads in the namespace), tailnet (devices on your Tailscale tailnet) or public (anyone on the internet).',
  );

// Kubernetes quantity syntax (k8s.io/apimachinery resource.Quantity), without a sign.
const QUANTITY = /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** True for a quantity above zero, as the apiserver's CEL rule below. */
export function isPositiveQuantity(value: string): boolean {
  const mantissa = QUANTITY.exec(value)?.[1];
  return mantissa !== undefined && /[1-9]/.test(mantissa);
}

/** A positive Kubernetes quantity, refused with a message that shows what is allowed. */
export function positiveQuantity(examples: string) {
  return withRules(z.string().max(64), {
    rule: "isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",
    message: `must be a positive Kubernetes quantity, such as ${examples}`,
    check: isPositiveQuantity,
  });
}

export const Resources = z
  .strictObject({
    cpu: positiveQuantity('250m, 0.5 or 2')
      .default('250m')
      .describe('CPU cores, requested and also the limit (1 = one core, 250m = a quarter of one).'),
    memory: positiveQuantity('256Mi or 2Gi')
      .default('256Mi')
      .describe('Memory in bytes, requested and also the limit; exceeding it restarts the container.'),
  })
  .describe('CPU and memory of the container. Only a provider node that offers this much runs it.');

export const SecretKeySelector = z
  .strictObject({
    name: ObjectName.describe('Name of the Secret, in the same namespace.'),
    key: DataKey.describe('Key within the Secret.'),
  })
  .describe('A key of a Secret in the same namespace.');

export const ConfigMapKeySelector = z
  .strictObject({
    name: ObjectName.describe('Name of the ConfigMap, in the same namespace.'),
    key: DataKey.describe('Key within the ConfigMap.'),
  })
  .describe('A key of a ConfigMap in the same namespace.');

const EnvVarSource = withRules(
  z
    .strictObject({
      secretKeyRef: SecretKeySelector.optional(),
      configMapKeyRef: ConfigMapKeySelector.optional(),
    })
    .describe('Where the value comes from: exactly one of secretKeyRef or configMapKeyRef.'),
  {
    rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
    message: 'set exactly one of secretKeyRef or configMapKeyRef',
    check: (v) => (v.secretKeyRef === undefined) !== (v.configMapKeyRef === undefined),
  },
);

export const EnvVar = withRules(
  z
    .strictObject({
      name: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/)
        .describe('Name of the environment variable.'),
      value: z.string().max(32768).optional().describe('Literal value.'),
      valueFrom: EnvVarSource.optional(),
    })
    .describe('An environment variable: a literal value, or one read from a Secret or ConfigMap.'),
  {
    rule: '!(has(self.value) && has(self.valueFrom))',
    message: 'set value or valueFrom, not both',
    check: (v) => !(v.value !== undefined && v.valueFrom !== undefined),
  },
);

export const Env = keyedList(EnvVar, 'name', 128).describe(
  'Environment variables of the container, merged by name.',
);

/** Kubernetes' standard condition (metav1.Condition), so `kubectl wait --for=condition=Ready` works. */
export const Condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
      )
      .describe('Type of condition in CamelCase, e.g. Ready, Progressing, Degraded.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('Machine-readable CamelCase reason for the last transition.'),
    message: z.string().max(32768).describe('Human-readable details of the last transition.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation the condition was set for.'),
    lastTransitionTime: Timestamp.describe('When the status last changed.'),
  })
  .describe('One aspect of the current state.');

export const Conditions = keyedList(Condition, 'type', 16).describe(
  'Current state, one entry per condition type. Every kind has Ready.',
);

export const ObservedGeneration = z
  .int()
  .min(0)
  .describe('metadata.generation of the spec this status describes.');

/** The parts of object metadata Lattice reads; everything else the apiserver sets is kept as is. */
export const ObjectMeta = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
});

export type Resources = z.infer<typeof Resources>;
export type EnvVar = z.infer<typeof EnvVar>;
export type Expose = z.infer<typeof Expose>;
export type Condition = z.infer<typeof Condition>;
export type SecretKeySelector = z.infer<typeof SecretKeySelector>;
export type ObjectMeta = z.infer<typeof ObjectMeta>;
