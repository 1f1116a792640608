import type * as k8s from '@kubernetes/client-node';
import { refusalReason, toAgentPod, type PodResolver } from './pod-translation.js';

const pod = (namespace: string, spec: Partial<k8s.V1PodSpec> = {}, owner?: string): k8s.V1Pod => ({
  metadata: { name: 'p', namespace, uid: 'u1', ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner, name: 'o', uid: 'o1', controller: true }] } : {}) },
  spec: { containers: [{ name: 'app', image: 'busybox:1' }], ...spec },
});

const none: PodResolver = { secret: () => undefined, configMap: () => undefined, localVolume: () => undefined, capacity: () => undefined, hostIP: '10.0.0.1' };
const everything: k8s.V1Toleration = { operator: 'Exists' };
const provider: k8s.V1Toleration = { key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' };

describe('refusalReason', () => {
  test("refuses the pods of Kubernetes' own namespaces, whatever they tolerate", () => {
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease']) {
      expect(refusalReason(pod(ns, { tolerations: [provider] }))).toMatch(new RegExp(`^pods of ${ns} do not run on Lattice providers`));
    }
  });

  test('refuses a DaemonSet pod that tolerates every taint, and runs one that names the provider taint', () => {
    expect(refusalReason(pod('logging', { tolerations: [everything] }, 'DaemonSet'))).toMatch(/tolerates the lattice.dev\/provider taint by its key/);
    expect(refusalReason(pod('logging', {}, 'DaemonSet'))).toBeDefined();
    expect(refusalReason(pod('logging', { tolerations: [everything, provider] }, 'DaemonSet'))).toBeUndefined();
  });

  test("leaves a tenant's pods alone, bound by the scheduler or by nodeName", () => {
    expect(refusalReason(pod('shop', { tolerations: [provider] }, 'ReplicaSet'))).toBeUndefined();
    expect(refusalReason(pod('shop', { nodeName: 'provider-1' }))).toBeUndefined();
  });
});

describe("a container's securityContext", () => {
  const withContext = (securityContext: k8s.V1SecurityContext, podContext?: k8s.V1PodSecurityContext) =>
    pod('shop', { containers: [{ name: 'app', image: 'busybox:1', securityContext }], securityContext: podContext });

  test('may add only what a provider container has, with or without CAP_, as restricted pods add NET_BIND_SERVICE', () => {
    expect(refusalReason(withContext({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }))).toBeUndefined();
    expect(refusalReason(withContext({ capabilities: { add: ['cap_chown'] } }))).toBeUndefined();
    expect(refusalReason(withContext({ capabilities: { add: ['NET_BIND_SERVICE', 'CAP_NET_RAW', 'SYS_ADMIN'] } }))).toMatch(
      /^container "app": adding capabilities \(NET_RAW, SYS_ADMIN\) is not allowed on Lattice providers; a container may have CHOWN, /,
    );
  });

  test('may not turn seccomp off, in the container or the pod', () => {
    expect(refusalReason(withContext({ seccompProfile: { type: 'RuntimeDefault' } }))).toBeUndefined();
    expect(refusalReason(withContext({ seccompProfile: { type: 'Unconfined' } }))).toMatch(/seccompProfile Unconfined is not allowed/);
    expect(refusalReason(withContext({}, { seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' } }))).toMatch(/seccompProfile Localhost is not allowed/);
  });

  test('reaches the agent: runAsNonRoot from the pod or the container, a read-only root, capabilities without CAP_', () => {
    const translated = toAgentPod(withContext({ readOnlyRootFilesystem: true, capabilities: { drop: ['all'], add: ['CAP_NET_BIND_SERVICE'] } }, { runAsNonRoot: true, runAsUser: 1000 }), none);
    expect(translated.containers[0]).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true, dropCapabilities: ['ALL'], addCapabilities: ['NET_BIND_SERVICE'] });
    expect(toAgentPod(withContext({ runAsNonRoot: false }, { runAsNonRoot: true }), none).containers[0]?.runAsNonRoot).toBe(false);
  });
});

describe('toAgentPod', () => {

  test('gives a pod whose name is longer than a hostname the name cut to 63 characters, as the kubelet does', () => {
    const long = `${'a'.repeat(62)}-${'b'.repeat(40)}`;
    const translated = toAgentPod({ ...pod('shop'), metadata: { name: long, namespace: 'shop', uid: 'u1' } }, none);
    expect(translated.name).toBe(long);
    expect(translated.hostname).toBe('a'.repeat(62));
  });
});

describe('the downward API and projected volumes', () => {
  const resolver: PodResolver = {
    ...none,
    secret: (_ns, name) => (name === 'creds' ? { data: { user: Buffer.from('admin').toString('base64') } } : undefined),
    configMap: (_ns, name) => (name === 'settings' ? { data: { mode: 'fast', level: '3' } } : undefined),
    capacity: () => ({ cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, ephemeralStorageBytes: 0, pods: 110 }),
  };
  const labelled: k8s.V1Pod = {
    metadata: { name: 'p', namespace: 'shop', uid: 'u1', labels: { tier: 'web', app: 'shop' }, annotations: { note: 'say "hi"' } },
    spec: {
      nodeName: 'provider-1',
      containers: [{ name: 'app', image: 'busybox:1', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m', memory: '32Mi' } } }],
    },
  };
  const withEnv = (env: k8s.V1EnvVar[]): k8s.V1Pod => ({ ...labelled, spec: { ...labelled.spec!, containers: [{ ...labelled.spec!.containers[0]!, env }] } });
  const withVolume = (v: Omit<k8s.V1Volume, 'name'>): k8s.V1Pod => ({ ...labelled, spec: { ...labelled.spec!, volumes: [{ name: 'info', ...v }] } });
  const filesOf = (p: k8s.V1Pod) => Object.fromEntries(toAgentPod(p, resolver).volumes[0]!.files!.files.map((f) => [f.path, [f.content.toString(), f.mode.toString(8)]]));

  test('env: labels and annotations by key, the host IP, and resources divided and rounded up, a limit not set being the node allocatable', () => {
    const field = (name: string, fieldPath: string): k8s.V1EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    const resource = (name: string, res: string, divisor?: string): k8s.V1EnvVar => ({ name, valueFrom: { resourceFieldRef: { resource: res, divisor } } });
    const env = toAgentPod(
      withEnv([
        field('TIER', "metadata.labels['tier']"),
        field('NOTE', "metadata.annotations['note']"),
        field('HOST_IP', 'status.hostIP'),
        field('NODE', 'spec.nodeName'),
        resource('CPU_REQUEST', 'requests.cpu'),
        resource('CPU_REQUEST_MILLIS', 'requests.cpu', '1m'),
        resource('CPU_LIMIT', 'limits.cpu'),
        resource('MEMORY_LIMIT_MI', 'limits.memory', '1Mi'),
        resource('MEMORY_REQUEST', 'requests.memory'),
      ]),
      resolver,
    ).containers[0]!.env;
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toEqual({
      TIER: 'web',
      NOTE: 'say "hi"',
      HOST_IP: '10.0.0.1',
      NODE: 'provider-1',
      CPU_REQUEST: '1',
      CPU_REQUEST_MILLIS: '250',
      CPU_LIMIT: '2',
      MEMORY_LIMIT_MI: '64',
      MEMORY_REQUEST: String(32 * 2 ** 20),
    });
  });

  test("env: the pod IP is left for the agent to fill in, as only the provider knows it; in a volume it is refused", () => {
    const env = toAgentPod(withEnv([{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]), resolver).containers[0]!.env;
    expect(env).toEqual([{ name: 'IP', value: '', fromPodIp: true }]);
    expect(() => filesOf(withVolume({ downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } }))).toThrow('fieldRef "status.podIP" is not supported on Lattice providers in a volume');
  });

  test('a downwardAPI volume: labels and annotations as the kubelet formats them, with modes', () => {
    expect(
      filesOf(
        withVolume({
          downwardAPI: {
            defaultMode: 0o600,
            items: [
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' }, mode: 0o644 },
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'memory', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
            ],
          },
        }),
      ),
    ).toEqual({ labels: ['app="shop"\ntier="web"', '600'], annotations: ['note="say \\"hi\\""', '644'], name: ['p', '600'], memory: ['64', '600'] });
  });

  test('a projected volume: a Secret, a ConfigMap and the downward API in one directory; the node-only fields refused', () => {
    expect(
      filesOf(
        withVolume({
          projected: {
            sources: [
              { secret: { name: 'creds' } },
              { configMap: { name: 'settings', items: [{ key: 'mode', path: 'conf/mode' }] } },
              { configMap: { name: 'absent', optional: true } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        }),
      ),
    ).toEqual({ user: ['admin', '644'], 'conf/mode': ['fast', '644'], namespace: ['shop', '644'] });
    expect(() => filesOf(withVolume({ downwardAPI: { items: [{ path: 'node', fieldRef: { fieldPath: 'spec.nodeName' } }] } }))).toThrow(/fieldRef "spec\.nodeName" is not supported/);
  });

  test("Kubernetes' injected token volume is left out; a token asked for by name is refused, saying why", () => {
    const token = { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } };
    const injected = { ...labelled, spec: { ...labelled.spec!, volumes: [{ name: 'kube-api-access-x7k2p', projected: { sources: [token] } }] } };
    expect(toAgentPod(injected, resolver).volumes).toEqual([]);
    expect(() => toAgentPod(withVolume({ projected: { sources: [token] } }), resolver)).toThrow(/serviceAccountToken projection is not supported.*hold no Kubernetes credentials/);
  });

  test('a missing ConfigMap a projection needs holds the pod until it exists', () => {
    expect(() => toAgentPod(withVolume({ projected: { sources: [{ configMap: { name: 'later' } }] } }), resolver)).toThrow(/ConfigMap "later" does not exist yet/);
  });
});

describe('lifecycle hooks', () => {
  const withHooks = (lifecycle: k8s.V1Lifecycle): k8s.V1Pod => ({ ...pod('shop'), spec: { containers: [{ name: 'app', image: 'busybox:1', ports: [{ name: 'http', containerPort: 8080 }], lifecycle }] } });

  test('exec and httpGet to the pod itself reach the agent', () => {
    const c = toAgentPod(withHooks({ postStart: { exec: { command: ['sh', '-c', 'echo hi'] } }, preStop: { httpGet: { path: '/quit', port: 'http' } } }), none).containers[0]!;
    expect(c.postStart).toMatchObject({ handler: 'exec', exec: { command: ['sh', '-c', 'echo hi'] } });
    expect(c.preStop).toMatchObject({ handler: 'httpGet', httpGet: { path: '/quit', port: 8080, scheme: 'HTTP' } });
  });

  test('an httpGet hook to another host, or a sleep hook, is refused, naming the hook', () => {
    expect(() => toAgentPod(withHooks({ preStop: { httpGet: { host: '192.168.1.1', path: '/', port: 80 } } }), none)).toThrow('container "app": the preStop hook may not name a host ("192.168.1.1") on Lattice providers');
    expect(() => toAgentPod(withHooks({ postStart: { sleep: { seconds: 5 } } }), none)).toThrow('container "app": the postStart hook is supported as exec or httpGet only on Lattice providers');
  });
});

describe('$(VAR) expansion', () => {
  test('env composes earlier env; command and args take the whole env; $$ and unknown names stay as written', () => {
    const p: k8s.V1Pod = {
      ...pod('shop'),
      spec: {
        containers: [
          {
            name: 'app',
            image: 'busybox:1',
            command: ['sh', '-c', 'echo $(GREETING) $$(HOME) $(LATER_UNKNOWN)'],
            args: ['$(NAME)'],
            env: [
              { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'GREETING', value: 'hello $(NAME) from $(NOWHERE)' },
            ],
          },
        ],
      },
    };
    const c = toAgentPod(p, none).containers[0]!;
    expect(c.env).toEqual([
      { name: 'NAME', value: 'p' },
      { name: 'GREETING', value: 'hello p from $(NOWHERE)' },
    ]);
    expect([c.command, c.args]).toEqual([['sh', '-c', 'echo hello p from $(NOWHERE) $(HOME) $(LATER_UNKNOWN)'], ['p']]);
  });
});

test('a pod whose env doubles itself into gigabytes is refused, not expanded', () => {
  const doubling = Array.from({ length: 40 }, (_, i): k8s.V1EnvVar => ({ name: `V${i}`, value: i === 0 ? 'x'.repeat(1024) : `$(V${i - 1})$(V${i - 1})` }));
  const p: k8s.V1Pod = { ...pod('shop'), spec: { containers: [{ name: 'app', image: 'busybox:1', env: doubling }] } };
  expect(() => toAgentPod(p, none)).toThrow('container "app": env "V6" expands to more than 32768 characters');
});

test('a resourceFieldRef of a resource or quantity no kubelet knows is refused, not thrown', () => {
  const withRef = (resource: string, divisor?: string): k8s.V1Pod => ({
    ...pod('shop'),
    spec: { containers: [{ name: 'app', image: 'busybox:1', env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource, divisor } } }] }] },
  });
  expect(() => toAgentPod(withRef('limits.constructor'), none)).toThrow('resourceFieldRef "limits.constructor" is not supported on Lattice providers');
  expect(() => toAgentPod(withRef('requests.memory', 'lots'), none)).toThrow('resourceFieldRef "requests.memory": "lots" is not a quantity');
});
