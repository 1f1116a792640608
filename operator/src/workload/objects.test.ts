import type * as k8s from '@kubernetes/client-node';
import { workload } from './fixtures.js';
import { deployment, desiredObjects, endpoints, noPublicUrl, publicUrl, service, statefulSet } from './objects.js';

const options = { providerLossTimeoutSeconds: 60 };
const web = workload({
  replicas: 3,
  command: ['httpd'],
  args: ['-f', '-p', '8080'],
  ports: [
    { name: 'http', port: 8080 },
    { name: 'metrics', port: 9100, protocol: 'TCP' },
  ],
  resources: { cpu: '500m', memory: '128Mi' },
  env: [
    { name: 'MODE', value: 'production' },
    { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    { name: 'THEME', valueFrom: { configMapKeyRef: { name: 'ui', key: 'theme' } } },
  ],
  healthCheck: { http: { path: '/healthz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
  placement: { providerSelector: { 'topology.kubernetes.io/region': 'eu' }, spreadAcrossProviders: true },
});

const pod = (d: { spec?: { template: k8s.V1PodTemplateSpec } }) => d.spec!.template.spec!;

describe('deployment', () => {
  const d = deployment(web, options);

  test('is owned by the Workload, so the garbage collector deletes it with it', () => {
    expect(d.metadata).toMatchObject({
      name: 'web',
      namespace: 'shop',
      ownerReferences: [{ apiVersion: 'lattice.dev/v1alpha1', kind: 'Workload', name: 'web', uid: 'uid-1', controller: true, blockOwnerDeletion: true }],
    });
  });

  test('carries the recommended labels; the selector only the immutable workload label', () => {
    const labels = {
      'app.kubernetes.io/name': 'web',
      'app.kubernetes.io/instance': 'web',
      'app.kubernetes.io/managed-by': 'lattice-operator',
      'app.kubernetes.io/part-of': 'lattice',
      'lattice.dev/workload': 'web',
    };
    expect(d.metadata!.labels).toEqual(labels);
    expect(d.spec!.template.metadata!.labels).toEqual(labels);
    expect(d.spec!.selector).toEqual({ matchLabels: { 'lattice.dev/workload': 'web' } });
  });

  test("keeps a user's own name and part-of labels", () => {
    const own = deployment(workload({}, { labels: { 'app.kubernetes.io/name': 'shop-web', 'app.kubernetes.io/part-of': 'shop' } }), options);
    expect(own.metadata!.labels).toMatchObject({ 'app.kubernetes.io/name': 'shop-web', 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/instance': 'web' });
  });

  test('rolls out without ever dropping below the ready replicas', () => {
    expect(d.spec!.replicas).toBe(3);
    expect(d.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  test('runs only on provider nodes, matching the provider selector', () => {
    const spec = pod(d);
    expect(spec.nodeSelector).toEqual({ 'lattice.dev/provider': 'true' });
    expect(spec.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/region', operator: 'In', values: ['eu'] }] }],
        },
      },
    });
    expect(pod(deployment(workload({}), options)).affinity).toBeUndefined();
  });

  test('tolerates the provider taint, and a lost provider for the configured time only', () => {
    expect(pod(deployment(web, { providerLossTimeoutSeconds: 45 })).tolerations).toEqual([
      { key: 'lattice.dev/provider', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 45 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 45 },
    ]);
  });

  test('spreads over providers: required with spreadAcrossProviders, preferred without', () => {
    expect(pod(d).topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { 'lattice.dev/workload': 'web' } } },
    ]);
    expect(pod(deployment(workload({}), options)).topologySpreadConstraints![0]!.whenUnsatisfiable).toBe('ScheduleAnyway');
  });

  test('runs one container as the Workload describes, with requests equal to limits', () => {
    const [container, ...others] = pod(d).containers;
    expect(others).toEqual([]);
    expect(container).toMatchObject({
      name: 'app',
      image: '127.0.0.1:5001/lattice/busybox:1',
      command: ['httpd'],
      args: ['-f', '-p', '8080'],
      ports: [
        { name: 'http', containerPort: 8080, protocol: 'TCP' },
        { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
      ],
      resources: { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      securityContext: { allowPrivilegeEscalation: false, privileged: false },
    });
    expect(container!.env).toEqual([
      { name: 'MODE', value: 'production' },
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'THEME', valueFrom: { configMapKeyRef: { name: 'ui', key: 'theme' } } },
    ]);
  });

  test('probes readiness and liveness with the health check', () => {
    const [container] = pod(d).containers;
    const probe = { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 0, periodSeconds: 5, failureThreshold: 2 };
    expect(container!.readinessProbe).toEqual(probe);
    expect(container!.livenessProbe).toEqual(probe);
    const tcp = pod(deployment(workload({ ports: [{ name: 'redis', port: 6379 }], healthCheck: { tcp: { port: 6379 } } }), options)).containers[0]!;
    expect(tcp.readinessProbe).toMatchObject({ tcpSocket: { port: 6379 } });
    const exec = pod(deployment(workload({ healthCheck: { exec: { command: ['true'] } } }), options)).containers[0]!;
    expect(exec.livenessProbe).toMatchObject({ exec: { command: ['true'] } });
    expect(pod(deployment(workload({}), options)).containers[0]!.readinessProbe).toBeUndefined();
  });

  test('gives the consumer container no cluster credentials and no service links', () => {
    expect(pod(d)).toMatchObject({ automountServiceAccountToken: false, enableServiceLinks: false });
  });

  test("pulls with the Workload's pull secrets, and none when it names none", () => {
    const secrets = [{ name: 'registry-login' }];
    expect(pod(deployment(workload({ imagePullSecrets: secrets }), options)).imagePullSecrets).toEqual(secrets);
    expect(pod(d).imagePullSecrets).toBeUndefined();
  });

  test('suspend runs no replica, and resuming restores them', () => {
    expect(deployment(workload({ replicas: 3, suspend: true }), options).spec!.replicas).toBe(0);
    expect(deployment(workload({ replicas: 3, suspend: false }), options).spec!.replicas).toBe(3);
  });
});

describe('a Workload with volumes', () => {
  const redis = workload({ ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }], volumes: [{ name: 'data', mountPath: '/data', size: '1Gi' }] });

  test('runs as a StatefulSet, each replica with a claim on the lattice-local storage class', () => {
    expect(desiredObjects(redis, options).replicas.kind).toBe('StatefulSet');
    const set = statefulSet(redis, options);
    expect(set.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'Parallel',
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      volumeClaimTemplates: [
        { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'lattice-local', resources: { requests: { storage: '1Gi' } } } },
      ],
    });
    expect(pod(set).containers[0]!.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(set.metadata!.ownerReferences![0]!.controller).toBe(true);
  });

  test('without volumes it is a Deployment', () => {
    expect(desiredObjects(web, options).replicas.kind).toBe('Deployment');
  });
});

describe('service', () => {
  test('exposes every port by name inside the cluster', () => {
    expect(service(web)).toMatchObject({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop', ownerReferences: [{ uid: 'uid-1', controller: true }] },
      spec: {
        type: 'ClusterIP',
        selector: { 'lattice.dev/workload': 'web' },
        ports: [
          { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
          { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' },
        ],
      },
    });
  });

  test('is not needed without ports', () => {
    expect(service(workload({}))).toBeUndefined();
  });

  test('endpoints are the Service URLs', () => {
    expect(endpoints(web)).toEqual([
      { port: 'http', url: 'http://web.shop.svc:8080' },
      { port: 'metrics', url: 'tcp://web.shop.svc:9100' },
    ]);
  });
});

describe('a public HTTP port', () => {
  const ingress = { baseDomain: 'apps.example', httpsPort: 443, tcpHost: 'apps.example', probeAddress: { host: '127.0.0.1', port: 8443 } };
  const ports = [{ name: 'http', port: 8080, expose: 'public' }];

  test('is served at https://<name>--<namespace>.<domain>', () => {
    const wl = workload({ ports });
    expect(publicUrl(wl, ingress)).toBe('https://web--shop.apps.example');
    expect(endpoints(wl, ingress)).toEqual([{ port: 'http', url: 'https://web--shop.apps.example' }]);
    expect(noPublicUrl(wl, ingress)).toBeUndefined();
  });

  test('gets no URL when name and namespace make more than a DNS label, and says so', () => {
    const wl = workload({ ports }, { name: 'w'.repeat(50), namespace: 'team-platform-1' });
    expect(publicUrl(wl, ingress)).toBeUndefined();
    expect(endpoints(wl, ingress)).toEqual([{ port: 'http', url: `http://${'w'.repeat(50)}.team-platform-1.svc:8080` }]);
    expect(noPublicUrl(wl, ingress)).toEqual({ reason: 'NoPublicUrl', message: expect.stringContaining('over the 63 of a DNS label') });
  });
});
