// The embedded control plane is real Kubernetes: the apiserver stores and watches objects, the
// controller-manager's garbage collector deletes owned children, and kube-scheduler binds pods.
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, kubectl, uniqueName, waitFor } from '../support/cluster.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = uniqueName('it-cluster');

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

test('the apiserver answers /readyz through kubectl', async () => {
  expect((await kubectl(['get', '--raw', '/readyz'])).trim()).toBe('ok');
});

test('RBAC is enforced for a user without bindings', async () => {
  const answer = await kubectl(['auth', 'can-i', 'create', 'pods', '-n', namespace, '--as', 'mallory']).catch(
    (err: { stdout?: string }) => err.stdout ?? '',
  );
  expect(answer.trim()).toBe('no');
});

test('a watch sees an object created, changed and deleted', async () => {
  const seen: string[] = [];
  const name = uniqueName('watched');
  const watch = new k8s.Watch(kc);
  const request = await watch.watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { fieldSelector: `metadata.name=${name}` },
    (phase: string) => seen.push(phase),
    () => undefined,
  );
  try {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { a: '1' } } });
    await core.patchNamespacedConfigMap(
      { namespace, name, body: { data: { a: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ namespace, name });
    await waitFor('ADDED, MODIFIED, DELETED events', () => seen.includes('DELETED') && seen.join(','), {
      timeoutMs: 20_000,
    });
    expect(seen).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  } finally {
    request.abort();
  }
});

test('the garbage collector deletes a child when its owner goes', async () => {
  const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: uniqueName('owner') } } });
  const childName = uniqueName('child');
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: {
        name: childName,
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata!.name!, uid: owner.metadata!.uid! }],
      },
    },
  });
  await core.deleteNamespacedConfigMap({ namespace, name: owner.metadata!.name! });
  await waitFor(
    'the owned ConfigMap to be garbage-collected',
    async () => {
      try {
        await core.readNamespacedConfigMap({ namespace, name: childName });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    },
    { timeoutMs: 60_000 },
  );
});

test('kube-scheduler binds a pod to a Node the test creates', async () => {
  const nodeName = uniqueName('it-node');
  const taint = { key: 'lattice.dev/test-node', value: nodeName, effect: 'NoSchedule' };
  await core.createNode({
    body: {
      metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } },
      spec: { taints: [taint] },
    },
  });
  try {
    // A merge patch: the node-lifecycle controller writes this status too, so no resourceVersion.
    await core.patchNodeStatus(
      {
        name: nodeName,
        body: {
          status: {
            capacity: { cpu: '2', memory: '2Gi', pods: '10' },
            allocatable: { cpu: '2', memory: '2Gi', pods: '10' },
            conditions: [
              { type: 'Ready', status: 'True', reason: 'TestNode', message: 'created by the test', lastHeartbeatTime: new Date() },
            ],
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const podName = uniqueName('bound');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: podName },
        spec: {
          // Only this test's node tolerates the taint, and only this pod tolerates it.
          tolerations: [{ key: taint.key, operator: 'Equal', value: taint.value, effect: 'NoSchedule' }],
          nodeSelector: { 'kubernetes.io/hostname': nodeName },
          containers: [{ name: 'app', image: 'example.invalid/never-pulled', resources: { requests: { cpu: '100m' } } }],
        },
      },
    });
    const boundTo = await waitFor('the scheduler to bind the pod', async () => {
      const pod = await core.readNamespacedPod({ namespace, name: podName });
      return pod.spec?.nodeName;
    });
    expect(boundTo).toBe(nodeName);
  } finally {
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
  }
});
