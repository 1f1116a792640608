// Real kubelet nodes beside the embedded control plane (hack/kubelet-nodes through
// test/support/kubelet-nodes.ts): kubelets and kube-proxies of the pinned Kubernetes, each node with
// its own containerd in network and mount namespaces of its own on the cluster network. Pods from
// the local registry spread across them and reach each other, Services (kube-proxy) and the
// apiserver; kubectl logs and exec go apiserver → kubelet; a provider machine (hack/machines)
// reaches none of it. The suite starts the nodes when they are not running and leaves them up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, kubectl, repoRoot, uniqueName, waitFor } from '../support/cluster.js';
import { CLUSTER_ADDRESS, KUBELET_NODE_LABEL, ensureKubeletNodes, kubeletNodesPossible, removeKubeletNodes } from '../support/kubelet-nodes.js';
import { PUBLIC_ADDRESS, PUBLIC_REGISTRY, connectFrom, createMachine, removeMachine } from '../support/machines.js';

const IMAGE = `127.0.0.1:${process.env.LATTICE_REGISTRY_PORT ?? '5001'}/lattice/busybox:1`;
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const namespace = uniqueName('it-kubelet-nodes');
const APP = { app: 'web' };

// With CLUSTER=existing there are no kubelet nodes of ours to test.
const describeNodes = kubeletNodesPossible() ? describe : describe.skip;

/** Whether IPv4 address ip is in the CIDR range. */
function inRange(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const [base, bits] = cidr.split('/') as [string, string];
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

/** The Running, Ready pods of the Deployment, once there are `count` of them. */
async function readyPods(count: number): Promise<k8s.V1Pod[]> {
  return waitFor(
    `${count} Ready pods of the Deployment`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
      const ready = pods.items.filter(
        (p) => !p.metadata?.deletionTimestamp && p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === count && ready;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

const exec = (pod: string, script: string) => kubectl(['exec', '-n', namespace, pod, '--', 'sh', '-c', script]);

describeNodes('kubelet nodes', () => {
  let nodes: string[];

  beforeAll(async () => {
    nodes = await ensureKubeletNodes(2);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  }, 600_000);

  afterAll(async () => {
    // Deleting the namespace makes the kubelets stop and remove its pods: it is gone once they did.
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await waitFor(
      `namespace ${namespace} deleted`,
      async () => {
        try {
          await core.readNamespace({ name: namespace });
          return false;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    await removeKubeletNodes();
  }, 240_000);

  test('the nodes are Ready, labelled and untainted, on the cluster network, running the pinned kubelet on containerd', async () => {
    const listed = await core.listNode({ labelSelector: `${KUBELET_NODE_LABEL}=true` });
    const byName = new Map(listed.items.map((n) => [n.metadata!.name!, n]));
    // The Kubernetes hack/build-tools builds the control plane and the kubelet from.
    const pinned = /^\tk8s\.io\/kubernetes (v[0-9.]+)/m.exec(readFileSync(path.join(repoRoot, 'hack/tools/kubernetes/go.mod'), 'utf8'))?.[1];
    expect(pinned).toBeDefined();
    nodes.forEach((name, i) => {
      const node = byName.get(name);
      expect(node).toBeDefined();
      expect(node!.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(node!.spec?.taints ?? []).toEqual([]);
      expect(node!.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toBe(`198.18.128.${11 + i}`);
      expect(node!.spec?.podCIDR).toBe(`10.244.${i + 1}.0/24`);
      expect(node!.status?.nodeInfo?.kubeletVersion).toBe(pinned);
      expect(node!.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    });
  });

  describe('a Deployment of the local registry’s busybox', () => {
    let pods: k8s.V1Pod[];

    beforeAll(async () => {
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'web' },
          spec: {
            replicas: 2,
            selector: { matchLabels: APP },
            template: {
              metadata: { labels: APP },
              spec: {
                nodeSelector: { [KUBELET_NODE_LABEL]: 'true' },
                topologySpreadConstraints: [
                  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: APP } },
                ],
                // httpd as PID 1 ignores SIGTERM: no use waiting for it.
                terminationGracePeriodSeconds: 1,
                containers: [
                  {
                    name: 'web',
                    image: IMAGE,
                    // Each pod serves its own name; the log line is what `kubectl logs` must show.
                    command: ['sh', '-c', 'echo "serving $(hostname)"; mkdir -p /www; hostname >/www/index.html; exec httpd -f -p 8080 -h /www'],
                    ports: [{ containerPort: 8080 }],
                    // Probed by the kubelet from its node's network namespace.
                    readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                  },
                ],
              },
            },
          },
        },
      });
      await core.createNamespacedService({
        namespace,
        body: { metadata: { name: 'web' }, spec: { selector: APP, ports: [{ port: 80, targetPort: 8080 }] } },
      });
      pods = await readyPods(2);
    }, 180_000);

    test('spreads across the nodes, each pod with an address of its node’s pod range', async () => {
      const placed = pods.map((p) => p.spec!.nodeName!).sort();
      expect(new Set(placed).size).toBe(2);
      for (const pod of pods) {
        expect(nodes).toContain(pod.spec!.nodeName);
        const node = await core.readNode({ name: pod.spec!.nodeName! });
        expect(inRange(pod.status!.podIP!, node.spec!.podCIDR!)).toBe(true);
      }
    });

    test('a pod reaches the pod on the other node, and the ClusterIP Service reaches both (kube-proxy)', async () => {
      const [a, b] = pods as [k8s.V1Pod, k8s.V1Pod];
      // Straight to the other node's pod: routed through the host, unmasqueraded.
      expect((await exec(a.metadata!.name!, `wget -qO- http://${b.status!.podIP}:8080/`)).trim()).toBe(b.metadata!.name);
      const service = await core.readNamespacedService({ namespace, name: 'web' });
      // kube-proxy picks a backend at random per connection, and a node's kube-proxy may program the
      // endpoints a moment after the pods are Ready: ask until both have answered.
      const answered = new Set<string>();
      const names = pods.map((p) => p.metadata!.name!);
      await waitFor(
        `answers from both pods (${names.join(', ')}) through the Service`,
        async () => {
          const out = await exec(a.metadata!.name!, `for i in $(seq 20); do wget -qO- http://${service.spec!.clusterIP}/; done; true`);
          out.split('\n').filter(Boolean).forEach((line) => answered.add(line.trim()));
          if (!names.every((n) => answered.has(n))) throw new Error(`answered so far: ${[...answered].join(', ') || 'none'}`);
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect([...answered].sort()).toEqual([...names].sort());
    });

    test('pods reach the apiserver through the kubernetes Service', async () => {
      const slice = await kc.makeApiClient(k8s.DiscoveryV1Api).readNamespacedEndpointSlice({ namespace: 'default', name: 'kubernetes' });
      expect(slice.endpoints.flatMap((e) => e.addresses)).toEqual([CLUSTER_ADDRESS]);
      const kubernetes = await core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
      // A plain HTTP request to its TLS port: the apiserver's own answer proves the path (no client
      // with TLS in busybox).
      const answer = await exec(pods[0]!.metadata!.name!, `printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' | nc ${kubernetes.spec!.clusterIP} 443`);
      expect(answer).toContain('Client sent an HTTP request to an HTTPS server');
    });

    test('kubectl logs and kubectl exec reach each node’s kubelet', async () => {
      for (const pod of pods) {
        const name = pod.metadata!.name!;
        expect(await kubectl(['logs', '-n', namespace, name])).toContain(`serving ${name}`);
        expect((await kubectl(['exec', '-n', namespace, name, '--', 'hostname'])).trim()).toBe(name);
      }
    });

    test('a provider machine reaches neither the apiserver nor the cluster network', async () => {
      const machine = await createMachine();
      try {
        // The probe works: the public registry on the public address answers.
        expect(await connectFrom(machine, PUBLIC_ADDRESS, Number(PUBLIC_REGISTRY.split(':')[1]))).toBe('connected');
        const targets: Array<[string, number]> = [
          [PUBLIC_ADDRESS, 6443], // the apiserver listens on loopback only
          [CLUSTER_ADDRESS, 6443], // forwarded to it for the cluster network alone
          [CLUSTER_ADDRESS, 5001], // the cluster's registry, likewise
          ['198.18.128.11', 10250], // a kubelet
          [pods[0]!.status!.podIP!, 8080], // a pod
        ];
        for (const [host, port] of targets) {
          expect([host, port, await connectFrom(machine, host, port)]).not.toEqual([host, port, 'connected']);
        }
      } finally {
        await removeMachine(machine);
      }
    }, 120_000);
  });
});
