// The native objects a PostgresInstance becomes: a StatefulSet of one replica with its data on a
// lattice-local volume, a Service, and the connection Secret. Pure functions of the instance.
import type * as k8s from '@kubernetes/client-node';
import type { PostgresInstance } from '@lattice/crds';
import { publicPortsAnnotation } from '../gateway/ingress/exposure.js';
import { controllerReference } from '../kube/owners.js';
import { POSTGRES_PORT, connectionData, connectionSecretName, type Connection } from './connection.js';
import { DATA_MOUNT, PASSWORD_FILE, PASSWORD_MOUNT, READINESS_COMMAND, START_SCRIPT } from './scripts.js';

export const INSTANCE_LABEL = 'lattice.dev/postgres-instance';
/** The major version the StatefulSet runs, to refuse a change of spec.version. */
export const VERSION_LABEL = 'lattice.dev/postgres-version';
export const CONTAINER_NAME = 'postgres';
const DATA_VOLUME = 'data';
const PASSWORD_VOLUME = 'password';
/** Provider nodes carry this label and a NoSchedule taint with the same key (see the gateway). */
const PROVIDER_LABEL = 'lattice.dev/provider';
const STORAGE_CLASS = 'lattice-local';

/** Where the owner's password comes from: the user's Secret, or the connection Secret. */
export interface PasswordSource {
  secretName: string;
  key: string;
}

export function selectorLabels(name: string): Record<string, string> {
  return { [INSTANCE_LABEL]: name };
}

function labels(pg: PostgresInstance): Record<string, string> {
  const name = pg.metadata.name!;
  const own = pg.metadata.labels ?? {};
  return {
    'app.kubernetes.io/name': own['app.kubernetes.io/name'] ?? name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': 'database',
    'app.kubernetes.io/managed-by': 'lattice-operator',
    'app.kubernetes.io/part-of': own['app.kubernetes.io/part-of'] ?? 'lattice',
    ...selectorLabels(name),
  };
}

function metadata(pg: PostgresInstance, name = pg.metadata.name!): k8s.V1ObjectMeta {
  return { name, namespace: pg.metadata.namespace, labels: labels(pg), ownerReferences: [controllerReference(pg)] };
}

export function connectionSecret(pg: PostgresInstance, connection: Connection, exposed?: { host: string; port: number }): k8s.V1Secret {
  const data = Object.entries(connectionData(connection, exposed)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(pg, connectionSecretName(pg.metadata.name!)),
    type: 'Opaque',
    data: Object.fromEntries(data),
  };
}

export function service(pg: PostgresInstance): k8s.V1Service {
  // expose: public asks the gateway's ingress for a public TCP port (gateway/ingress/exposure.ts).
  const annotations = publicPortsAnnotation(pg.spec.expose === 'public' ? [{ name: 'postgres', port: POSTGRES_PORT, protocol: 'TCP' }] : []);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...metadata(pg), ...(annotations ? { annotations } : {}) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(pg.metadata.name!),
      ports: [{ name: 'postgres', port: POSTGRES_PORT, targetPort: 'postgres', protocol: 'TCP', appProtocol: 'postgresql' }],
    },
  };
}

export interface StatefulSetInputs {
  image: string;
  password: PasswordSource;
  /** `-c name=value` arguments: the settings read only at start. */
  settingsArgs: string[];
  /** Extra labels a provider must have (the operator's choice, not the user's). */
  providerSelector?: Record<string, string>;
  /** The claim templates of the existing StatefulSet: Kubernetes refuses to change them. */
  currentClaims?: k8s.V1PersistentVolumeClaim[];
}

/**
 * One replica on the provider that holds its data: the claim's PersistentVolume has node
 * affinity to that provider, so the scheduler can only put the pod back there. Deleting the
 * instance deletes the claim with the StatefulSet (reclaimPolicy Delete), or leaves it, with its
 * PersistentVolume and the provider's Docker volume, for a later instance or a manual cleanup
 * (Retain): Kubernetes' own persistentVolumeClaimRetentionPolicy does it, no finalizer needed.
 */
export function statefulSet(pg: PostgresInstance, inputs: StatefulSetInputs): k8s.V1StatefulSet {
  const name = pg.metadata.name!;
  const { spec } = pg;
  const resources = { cpu: spec.resources.cpu, memory: spec.resources.memory };
  const claims: k8s.V1PersistentVolumeClaim[] = [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: DATA_VOLUME, labels: labels(pg) },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, resources: { requests: { storage: spec.storage.size } } },
    },
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { ...metadata(pg), labels: { ...labels(pg), [VERSION_LABEL]: spec.version } },
    spec: {
      replicas: 1,
      serviceName: name,
      selector: { matchLabels: selectorLabels(name) },
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: spec.reclaimPolicy, whenScaled: 'Retain' },
      volumeClaimTemplates: inputs.currentClaims ?? claims,
      template: {
        metadata: { labels: labels(pg) },
        spec: {
          containers: [
            {
              name: CONTAINER_NAME,
              image: inputs.image,
              command: ['sh', '-c', START_SCRIPT],
              args: ['postgres', ...inputs.settingsArgs],
              env: [
                { name: 'LATTICE_OWNER', value: spec.owner },
                { name: 'LATTICE_DATABASE', value: spec.database },
                { name: 'LATTICE_PASSWORD_FILE', value: PASSWORD_FILE },
              ],
              ports: [{ name: 'postgres', containerPort: POSTGRES_PORT, protocol: 'TCP' }],
              // Requests equal to limits: the memory the settings are sized for is the memory it has.
              resources: { requests: resources, limits: resources },
              readinessProbe: { exec: { command: READINESS_COMMAND }, periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 3 },
              volumeMounts: [
                { name: DATA_VOLUME, mountPath: DATA_MOUNT },
                { name: PASSWORD_VOLUME, mountPath: PASSWORD_MOUNT, readOnly: true },
              ],
              securityContext: { allowPrivilegeEscalation: false, privileged: false },
            },
          ],
          volumes: [
            {
              name: PASSWORD_VOLUME,
              // World-readable inside the container: the file belongs to the agent's user, and the
              // container runs as postgres, its only user.
              secret: { secretName: inputs.password.secretName, items: [{ key: inputs.password.key, path: 'password' }], defaultMode: 0o444 },
            },
          ],
          nodeSelector: { ...inputs.providerSelector, [PROVIDER_LABEL]: 'true' },
          // The data lives on one provider: evicting the pod from a provider that went offline would
          // only leave it pending until that provider returns, so it waits there instead.
          tolerations: [
            { key: PROVIDER_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' },
            { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
            { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
          ],
          // PostgreSQL's smart shutdown (SIGTERM) waits for sessions to end; this bounds it.
          terminationGracePeriodSeconds: 30,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
        },
      },
    },
  };
}
