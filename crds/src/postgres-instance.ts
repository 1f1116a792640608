// PostgresInstance: a PostgreSQL server with one database, on a provider's local volume.
import { z } from 'zod';
import { Conditions, Expose, ObjectName, ObservedGeneration, Resources, positiveQuantity } from './common.js';
import { withRules } from './extensions.js';
import { ageColumn, objectSchema, readyColumn, type KindDefinition } from './kind.js';
import { MAX_LABEL_LENGTH, MAX_STATEFULSET_NAME_LENGTH, dnsLabelName } from './names.js';

/** Major versions Lattice has images for (127.0.0.1:5001/lattice/postgres:<version>). */
export const POSTGRES_VERSIONS = ['15'] as const;

const unchanged = (what: string) => ({
  rule: 'self == oldSelf',
  message: `${what} cannot be changed after creation`,
});

const SqlIdentifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z_][a-z0-9_]*$/);

export const PostgresInstanceSpec = z
  .strictObject({
    version: withRules(z.enum(POSTGRES_VERSIONS), {
      rule: 'self == oldSelf',
      message:
        'spec.version cannot be changed: major version upgrades are not supported yet; create a new PostgresInstance and move the data with pg_dump and pg_restore',
    })
      .default('15')
      .describe('PostgreSQL major version.'),
    database: withRules(SqlIdentifier, unchanged('spec.database')).describe(
      'Name of the database to create (lowercase letters, digits and _).',
    ),
    owner: withRules(SqlIdentifier, unchanged('spec.owner')).describe(
      'Role that owns the database; applications connect as this role.',
    ),
    passwordSecretRef: z
      .strictObject({
        name: ObjectName.describe('Name of the Secret, in the same namespace.'),
        key: z
          .string()
          .min(1)
          .max(253)
          .regex(/^[-._a-zA-Z0-9]+$/)
          .default('password')
          .describe('Key within the Secret.'),
      })
      .optional()
      .describe("Secret holding the owner's password. Without it Lattice generates one."),
    storage: z
      .strictObject({
        size: withRules(positiveQuantity('1Gi or 20Gi'), {
          rule: '!isQuantity(self) || !isQuantity(oldSelf) || quantity(self).compareTo(quantity(oldSelf)) >= 0',
          messageExpression: `'spec.storage.size cannot shrink (from ' + oldSelf + ' to ' + self + '); it can only grow'`,
          message: 'spec.storage.size cannot shrink; it can only grow',
        }).describe('Capacity of the data volume; it can grow but not shrink.'),
      })
      .describe('The data volume, on the provider node that runs the server.'),
    resources: Resources.prefault({}),
    parameters: z
      .record(z.string(), z.string())
      .optional()
      .describe('Settings for postgresql.conf, e.g. {"max_connections": "200", "work_mem": "8MB"}.'),
    expose: Expose.default('none'),
    reclaimPolicy: z
      .enum(['Delete', 'Retain'])
      .default('Delete')
      .describe('What happens to the data volume when the PostgresInstance is deleted: Delete it, or Retain it.'),
  })
  .describe('The database server to run.');

export const PostgresInstancePhase = z
  .enum(['Pending', 'Provisioning', 'Running', 'Failed'])
  .describe('Summary of the lifecycle; the conditions have the details.');

export const PostgresInstanceStatus = z
  .object({
    conditions: Conditions.optional(),
    observedGeneration: ObservedGeneration.optional(),
    phase: PostgresInstancePhase.optional(),
    endpoint: z
      .object({
        host: z.string().describe('Host name to connect to.'),
        port: z.int().min(1).max(65535).describe('Port to connect to.'),
      })
      .optional()
      .describe('Where the server accepts connections.'),
    connectionSecret: z
      .string()
      .optional()
      .describe(
        'Name of the Secret with the keys uri, host, port, username, password, dbname and jdbc-uri: always the name of the PostgresInstance followed by -connection (app-db-connection for app-db), so that Workloads can refer to it before it exists.',
      ),
    node: z.string().optional().describe('Provider node the server runs on.'),
  })
  .describe('What Lattice observed, written by the operator.');

export const PostgresInstance = objectSchema('PostgresInstance', PostgresInstanceSpec, PostgresInstanceStatus);

/** The Service and the StatefulSet are named after the instance (the Secret and the claim have room to spare). */
export const POSTGRES_INSTANCE_NAME_RULES = [
  dnsLabelName<PostgresInstance>(
    MAX_STATEFULSET_NAME_LENGTH,
    `a PostgresInstance's name must be a DNS label of at most ${MAX_STATEFULSET_NAME_LENGTH} characters (lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, no dots): it names the instance's Service and StatefulSet, whose pod carries the name and 11 more characters in a label (at most ${MAX_LABEL_LENGTH})`,
  ),
] as const;

export const postgresInstanceKind: KindDefinition = {
  kind: 'PostgresInstance',
  plural: 'postgresinstances',
  singular: 'postgresinstance',
  shortNames: ['pgi'],
  description:
    'A managed PostgreSQL server with one database and its owner role, its data on a local volume of a provider node.',
  spec: PostgresInstanceSpec,
  status: PostgresInstanceStatus,
  printerColumns: [
    readyColumn,
    { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'PostgreSQL major version.' },
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint.host', description: 'Host to connect to.' },
    { name: 'Port', type: 'integer', jsonPath: '.status.endpoint.port', description: 'Port to connect to.', priority: 1 },
    ageColumn,
  ],
  nameRules: POSTGRES_INSTANCE_NAME_RULES,
};

export type PostgresInstanceSpec = z.infer<typeof PostgresInstanceSpec>;
export type PostgresInstancePhase = z.infer<typeof PostgresInstancePhase>;
export type PostgresInstanceStatus = z.infer<typeof PostgresInstanceStatus>;
export type PostgresInstance = z.infer<typeof PostgresInstance>;
