import { PostgresInstanceSpec, type PostgresInstance } from '@lattice/crds';
import { connectionSecret, statefulSet } from './objects.js';

function instance(spec: Record<string, unknown> = {}): PostgresInstance {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'PostgresInstance',
    metadata: { name: 'app-db', namespace: 'shop', uid: 'u-1' },
    spec: PostgresInstanceSpec.parse({ database: 'app', owner: 'app', storage: { size: '5Gi' }, ...spec }),
  } as PostgresInstance;
}

const inputs = { image: 'pg:15', password: { secretName: 'app-db-connection', key: 'password' }, settingsArgs: ['-c', 'shared_buffers=64MB'] };

test.each([
  ['Delete', 'Delete'],
  ['Retain', 'Retain'],
])('reclaimPolicy %s: the StatefulSet %s its claim when deleted', (policy, whenDeleted) => {
  const set = statefulSet(instance({ reclaimPolicy: policy }), inputs);
  expect(set.spec?.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted, whenScaled: 'Retain' });
});

test('one unprivileged replica with its data on lattice-local, the restart-only settings as arguments', () => {
  const set = statefulSet(instance(), inputs);
  const pod = set.spec!.template.spec!;
  expect(set.spec?.replicas).toBe(1);
  expect(set.spec?.volumeClaimTemplates?.[0]?.spec).toMatchObject({ storageClassName: 'lattice-local', resources: { requests: { storage: '5Gi' } } });
  expect(pod.containers[0]).toMatchObject({ image: 'pg:15', args: ['postgres', '-c', 'shared_buffers=64MB'], securityContext: { privileged: false, allowPrivilegeEscalation: false } });
  expect(pod.volumes?.[0]?.secret).toMatchObject({ secretName: 'app-db-connection', items: [{ key: 'password', path: 'password' }] });
  expect(set.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'PostgresInstance', uid: 'u-1', controller: true });
});

test('the claim templates of an existing StatefulSet are kept (Kubernetes refuses to change them)', () => {
  const current = statefulSet(instance(), inputs).spec!.volumeClaimTemplates;
  const grown = statefulSet(instance({ storage: { size: '10Gi' } }), { ...inputs, currentClaims: current });
  expect(grown.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage).toBe('5Gi');
});

test('the connection Secret is owned by the instance and holds the documented keys', () => {
  const secret = connectionSecret(instance(), { host: 'app-db.shop.svc', port: 5432, username: 'app', password: 'pw', dbname: 'app' });
  expect(secret.metadata).toMatchObject({ name: 'app-db-connection', namespace: 'shop', ownerReferences: [expect.objectContaining({ uid: 'u-1' })] });
  expect(Object.keys(secret.data!).sort()).toEqual(['dbname', 'host', 'jdbc-uri', 'password', 'port', 'uri', 'username']);
});
