// Provider nodes end to end: two real agents (the lattice-agent CLI) on this machine join a real
// gateway through real join tokens; the real kube-scheduler binds pods to their Nodes; the real
// Docker engine runs them; kubectl sees status, logs and exec through the gateway's kubelet API.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import Docker from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseQuantity } from '@lattice/crds';
import { GatewayMessageSchema, PROTOCOL_VERSION, gatewayClient } from '@lattice/protocol';
import { loadIdentity } from '../../agent/src/identity.js';
import { GatewayOptionsSchema, startGateway, type RunningGateway } from '../../operator/src/gateway/index.js';
import { parseJoinToken } from '../../operator/src/gateway/join-tokens.js';
import { revokeNode } from '../../operator/src/gateway/node-identities.js';
import { adminKubeConfig, kubeconfigPath, kubectl, repoRoot, uniqueName, waitFor } from '../support/cluster.js';
import { freePort } from '../support/operator.js';
import {
  BUSYBOX,
  cleanupNodes,
  joinAgent,
  newStateDir,
  nodeContainers,
  runAgent,
  stopAgent,
  waitForExit,
  type AgentProcess,
  REGISTRY,
} from '../support/providers.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = uniqueName('it-providers');
const gatewayNamespace = uniqueName('it-gateway');
const run = promisify(execFile);
const suffix = uniqueName('p').slice(2);
const agents: AgentProcess[] = [
  { name: `alpha-${suffix}`, stateDir: '', output: [] },
  { name: `beta-${suffix}`, stateDir: '', output: [] },
];
const [alpha, beta] = agents as [AgentProcess, AgentProcess];
let running: RunningGateway;
let gatewayAddress: string;
/** Where each agent serves the cluster registry to this machine's engine (its registry relay). */
const relays = new Map<string, string>();

const gatewayOptions = (overrides: { grpcAddress?: string } = {}) =>
  GatewayOptionsSchema.parse({ grpcAddress: '127.0.0.1:0', namespace: gatewayNamespace, kubeletPort: 0, disconnectGraceSeconds: 3, registry: REGISTRY, ...overrides });
const docker = new Docker();

const providerToleration = { key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' };

async function readyNode(name: string): Promise<k8s.V1Node | undefined> {
  const node = await core.readNode({ name }).catch(() => undefined);
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? node : undefined;
}

async function podOn(nodeName: string, name: string, spec: Partial<k8s.V1PodSpec> = {}): Promise<k8s.V1Pod> {
  return core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        tolerations: [providerToleration],
        nodeSelector: { 'kubernetes.io/hostname': nodeName },
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'app',
            image: BUSYBOX,
            command: ['sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 1; done'],
            resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
          },
        ],
        ...spec,
      },
    },
  });
}

async function runningPod(name: string): Promise<k8s.V1Pod> {
  return waitFor(
    `pod ${name} Running and Ready`,
    async () => {
      const pod = await core.readNamespacedPod({ namespace, name });
      if (pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return pod;
      // Thrown, so a timeout says where the pod got stuck.
      throw new Error(`node=${pod.spec?.nodeName} phase=${pod.status?.phase} conditions=${JSON.stringify(pod.status?.conditions)} containers=${JSON.stringify(pod.status?.containerStatuses?.map((c) => c.state))}`);
    },
    { timeoutMs: 90_000 },
  );
}

/** The pod once Failed (an agent's housekeeping evicts within 10 s of measuring it over a bound). */
async function evictedPod(name: string): Promise<k8s.V1Pod> {
  return waitFor(
    `pod ${name} evicted`,
    async () => {
      const pod = await core.readNamespacedPod({ namespace, name });
      return pod.status?.phase === 'Failed' ? pod : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

/** Deletes alpha's pod and waits until its containers are removed too: the next test starts clean. */
async function deletePod(name: string, ns = namespace): Promise<void> {
  // The object goes at once (no grace); its agent removes the containers after.
  await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 });
  const left = async () => (await nodeContainers(alpha.name)).some((c) => c.Labels['lattice.dev/pod-namespace'] === ns && c.Labels['lattice.dev/pod-name'] === name);
  await waitFor(`pod ${name}'s containers removed`, async () => !(await left()), { timeoutMs: 30_000 });
}

/** The engine's events of `ids` since `since` (seconds) until now, of the given actions. */
async function engineEvents(since: number, ids: string[], actions: string[]): Promise<string[]> {
  const until = Math.ceil(Date.now() / 1000);
  const stream = (await docker.getEvents({ since, until, filters: { type: ['container'], event: actions } })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; Action: string })
    .filter((e) => ids.includes(e.id))
    .map((e) => `${e.Action} ${e.id.slice(0, 12)}`);
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  running = await startGateway(kc, gatewayOptions(), pino({ level: 'warn' }), new Registry());
  gatewayAddress = `127.0.0.1:${running.gateway.port}`;
  for (const agent of agents) {
    agent.stateDir = await newStateDir(agent.name);
    const { token } = await running.gateway.createJoinToken(600, 1);
    const relayPort = await freePort();
    relays.set(agent.name, `127.0.0.1:${relayPort}`);
    const extra = ['--cpu', '1', '--memory', '1Gi', '--max-pods', '10', '--registry-relay-port', String(relayPort)];
    const joined = await joinAgent({ gateway: gatewayAddress, token, name: agent.name, stateDir: agent.stateDir, extra });
    expect(joined).toMatchObject({ code: 0 });
    runAgent(agent);
  }
}, 120_000);

afterAll(async () => {
  for (const agent of agents) await stopAgent(agent);
  await running?.stop();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await core.deleteNamespace({ name: gatewayNamespace }).catch(() => undefined);
  for (const agent of agents) await core.deleteNode({ name: agent.name }).catch(() => undefined);
  await cleanupNodes(
    agents.map((a) => a.name),
    agents.map((a) => a.stateDir).filter(Boolean),
  );
}, 120_000);

describe('joining', () => {
  test('each agent becomes a Ready Node with the capacity it offers', async () => {
    for (const agent of agents) {
      const node = await waitFor(`node ${agent.name} Ready`, () => readyNode(agent.name), { timeoutMs: 60_000 });
      expect(node.status?.allocatable).toMatchObject({ cpu: '1', memory: '1Gi', pods: '10', 'ephemeral-storage': '10Gi' });
      expect(node.metadata?.labels).toMatchObject({ type: 'virtual-kubelet', 'lattice.dev/provider': 'true' });
      expect(node.spec?.taints).toContainEqual(expect.objectContaining({ key: 'lattice.dev/provider', effect: 'NoSchedule' }));
      // The gateway registers the Node Ready first and creates its Lease just after: wait for it.
      const leases = kc.makeApiClient(k8s.CoordinationV1Api);
      const lease = await waitFor(`lease of ${agent.name}`, () => leases.readNamespacedLease({ name: agent.name, namespace: 'kube-node-lease' }));
      expect(lease.spec?.holderIdentity).toBe(agent.name);
    }
  });

  test('the node key never left the provider and the state directory is private', async () => {
    const { stdout } = await run('stat', ['-c', '%a', alpha.stateDir]);
    expect(stdout.trim()).toBe('700');
    const secrets = await core.listNamespacedSecret({ namespace: gatewayNamespace });
    const stored = secrets.items.flatMap((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString())).join('\n');
    const identity = await loadIdentity(alpha.stateDir);
    // The private scalar: past the PKCS#8 header that every P-256 key shares.
    const keyBody = identity.keyPem.replace(/-----[A-Z ]+-----|\n/g, '');
    expect(stored).not.toContain(keyBody.slice(48, 88));
  });

  test.each([
    ['a malformed token', () => 'not-a-token', /malformed/],
    ['an unknown token', async () => (await running.gateway.createJoinToken(600, 1)).token.replace(/^lt1\.[a-z0-9]{6}/, 'lt1.zzzzzz'), /unknown or was revoked/],
    ['an expired token', async () => (await running.gateway.createJoinToken(-1, 1)).token, /expired/],
  ])('%s is refused with a clear error', async (_what, token, message) => {
    const stateDir = await newStateDir('refused');
    const result = await joinAgent({ gateway: gatewayAddress, token: await token(), name: uniqueName('refused'), stateDir });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(message);
  });

  test('a used-up token is refused', async () => {
    const { token } = await running.gateway.createJoinToken(600, 1);
    const first = await joinAgent({ gateway: gatewayAddress, token, name: uniqueName('once'), stateDir: await newStateDir('once') });
    expect(first.code).toBe(0);
    const second = await joinAgent({ gateway: gatewayAddress, token, name: uniqueName('twice'), stateDir: await newStateDir('twice') });
    expect(second.code).not.toBe(0);
    expect(second.output).toMatch(/already used 1 time/);
  });

  test('a join under the name of a Node Lattice does not run is refused, the Node is untouched, and the token is not used up', async () => {
    // A kubelet's Node, as a real cluster has: its pods (and their Secrets) are not a provider's to take.
    const name = uniqueName('kubelet');
    await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });
    try {
      const { token } = await running.gateway.createJoinToken(600, 1);
      const refused = await joinAgent({ gateway: gatewayAddress, token, name, stateDir: await newStateDir('foreign') });
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(`a Node named "${name}" exists in the cluster and is not a Lattice provider`);
      const node = await core.readNode({ name });
      expect(node.metadata?.labels).toEqual({ 'kubernetes.io/hostname': name });
      expect(node.spec?.taints).toBeUndefined();
      // Its one use is still there.
      const joined = await joinAgent({ gateway: gatewayAddress, token, name: uniqueName('after'), stateDir: await newStateDir('after') });
      expect(joined.code).toBe(0);
    } finally {
      await core.deleteNode({ name }).catch(() => undefined);
    }
  });

  test('lattice token list shows a token without its secret; lattice token revoke refuses it from then on', async () => {
    const cli = async (...args: string[]) =>
      (await run(process.execPath, ['--import', 'tsx', 'operator/src/cli.ts', '--kubeconfig', kubeconfigPath, '-n', gatewayNamespace, ...args], { cwd: repoRoot })).stdout;
    const token = (await cli('token', 'create', '--uses', '2', '--description', 'for the list')).trim();
    const { id, secret } = parseJoinToken(token)!;
    const listed = await cli('token', 'list');
    expect(listed).toMatch(/^ID\s+STATE\s+EXPIRES\s+USES\s+DESCRIPTION$/m);
    expect(listed).toMatch(new RegExp(`^${id}\\s+valid\\s+\\S+\\s+0/2\\s+for the list$`, 'm'));
    expect(listed).not.toContain(secret);

    expect(await cli('token', 'revoke', id)).toContain(`join token "${id}" revoked`);
    expect(await cli('token', 'list')).not.toContain(id);
    const refused = await joinAgent({ gateway: gatewayAddress, token, name: uniqueName('revoked'), stateDir: await newStateDir('revoked') });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/unknown or was revoked/);
  });
});

describe('pods', () => {
  test('a pod that tolerates the provider taint is bound, runs and becomes Ready', async () => {
    await podOn(alpha.name, 'web');
    const pod = await runningPod('web');
    expect(pod.spec?.nodeName).toBe(alpha.name);
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, restartCount: 0 });
    expect(pod.status?.containerStatuses?.[0]?.containerID).toMatch(/^docker:\/\//);
    const containers = await nodeContainers(alpha.name);
    const app = containers.find((c) => c.Labels['lattice.dev/pod-name'] === 'web' && c.Labels['lattice.dev/container'] === 'app');
    expect(app?.State).toBe('running');
  });

  test('kubectl logs streams the container output', async () => {
    const logs = await waitFor('a few log lines', async () => {
      const out = await kubectl(['logs', '-n', namespace, 'web', '--tail', '2']);
      return out.split('\n').filter(Boolean).length === 2 ? out : undefined;
    });
    expect(logs).toMatch(/^line \d+\nline \d+\n$/);
  });

  test('kubectl exec runs a command in the container and returns its exit code', async () => {
    expect(await kubectl(['exec', '-n', namespace, 'web', '--', 'sh', '-c', 'echo hello from $(hostname)'])).toBe('hello from web\n');
    await expect(kubectl(['exec', '-n', namespace, 'web', '--', 'sh', '-c', 'exit 7'])).rejects.toMatchObject({ code: 7 });
  });

  test('env and files from Secrets and ConfigMaps reach the container, resolved by the gateway', async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { 'app.conf': 'mode=fast\n' } } });
    await podOn(alpha.name, 'configured', {
      volumes: [{ name: 'conf', configMap: { name: 'settings' } }],
      containers: [
        {
          name: 'app',
          image: BUSYBOX,
          command: ['sleep', '3600'],
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }],
          volumeMounts: [{ name: 'conf', mountPath: '/etc/app', readOnly: true }],
        },
      ],
    });
    await runningPod('configured');
    expect(await kubectl(['exec', '-n', namespace, 'configured', '--', 'sh', '-c', 'echo $PASSWORD; cat /etc/app/app.conf'])).toBe('s3cret\nmode=fast\n');
  });

  test('the downward API, in env and files, $(VAR) in env, and projected volumes reach the container as on a kubelet; no API token does', async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'projected-creds' }, stringData: { password: 'pr0jected' } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'projected-settings' }, data: { mode: 'fast' } } });
    await podOn(alpha.name, 'downward', {
      volumes: [
        { name: 'info', downwardAPI: { items: [{ path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } }, { path: 'memory-mi', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } }] } },
        {
          name: 'all',
          projected: {
            sources: [
              { secret: { name: 'projected-creds' } },
              { configMap: { name: 'projected-settings', items: [{ key: 'mode', path: 'conf/mode' }] } },
              { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
            ],
          },
        },
      ],
      containers: [
        {
          name: 'app',
          image: BUSYBOX,
          command: ['sleep', '3600'],
          // No CPU limit: the node's allocatable stands in for it.
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '64Mi' } },
          env: [
            { name: 'CPU_LIMIT_MILLIS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
            { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'WHO', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'HELLO', value: 'hello $(WHO)' },
          ],
          volumeMounts: [
            { name: 'info', mountPath: '/etc/info', readOnly: true },
            { name: 'all', mountPath: '/etc/all', readOnly: true },
          ],
        },
      ],
    });
    const pod = await runningPod('downward');
    // The apiserver injected its token volume (kube-api-access-*), which a provider never gets.
    expect(pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(true);
    const allocatableMillis = parseQuantity((await core.readNode({ name: alpha.name })).status!.allocatable!.cpu!) * 1000;
    const script = 'echo $CPU_LIMIT_MILLIS $HOST_IP $POD_IP $HELLO; cat /etc/info/uid; echo; cat /etc/info/memory-mi /etc/all/password /etc/all/conf/mode /etc/all/name; echo; ls /var/run/secrets/kubernetes.io 2>&1 || true';
    expect((await kubectl(['exec', '-n', namespace, 'downward', '--', 'sh', '-c', script])).split('\n')).toEqual([
      `${allocatableMillis} ${pod.status!.hostIP} ${pod.status!.podIP} hello downward`,
      pod.metadata!.uid,
      '64pr0jectedfastdownward',
      'ls: /var/run/secrets/kubernetes.io: No such file or directory',
      '',
    ]);
  });

  test('deleting a pod removes its containers, then the pod object', async () => {
    await podOn(alpha.name, 'short-lived');
    await runningPod('short-lived');
    await core.deleteNamespacedPod({ namespace, name: 'short-lived' });
    await waitFor('the pod object to be gone', async () => (await core.readNamespacedPod({ namespace, name: 'short-lived' }).catch(() => undefined)) === undefined, {
      timeoutMs: 30_000,
    });
    const left = (await nodeContainers(alpha.name)).filter((c) => c.Labels['lattice.dev/pod-name'] === 'short-lived');
    expect(left).toEqual([]);
  });

  test('a container writing past its ephemeral-storage limit gets its pod evicted, as a kubelet evicts it, and a restarted agent does not start it again', async () => {
    await podOn(alpha.name, 'filler', {
      containers: [
        {
          name: 'app',
          image: BUSYBOX,
          command: ['sh', '-c', 'dd if=/dev/zero of=/filler bs=1M count=40 && sleep 3600'],
          resources: { limits: { cpu: '200m', memory: '64Mi', 'ephemeral-storage': '20Mi' } },
        },
      ],
    });
    const failed = await evictedPod('filler');
    expect(failed.status).toMatchObject({ reason: 'Evicted', message: 'Pod ephemeral local storage usage exceeds the total limit of containers 20Mi. ' });
    const events = await waitFor('the Evicted event', async () => (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=filler,reason=Evicted' })).items[0]);
    expect(events.type).toBe('Warning');
    const app = async () => (await nodeContainers(alpha.name)).filter((c) => c.Labels['lattice.dev/pod-name'] === 'filler' && c.Labels['lattice.dev/container'] === 'app');
    expect((await app()).map((c) => c.State)).toEqual(['exited']);

    await stopAgent(alpha);
    runAgent(alpha);
    await waitFor('the node to be Ready again', () => readyNode(alpha.name), { timeoutMs: 60_000 });
    // A pod sent after the restarted agent's pod set has come and been acted on.
    await podOn(alpha.name, 'after-eviction');
    await runningPod('after-eviction');
    expect((await app()).map((c) => c.State)).toEqual(['exited']);
    expect((await core.readNamespacedPod({ namespace, name: 'filler' })).status?.phase).toBe('Failed');
    await deletePod('after-eviction');
  });

  test('a pod writing past its emptyDir sizeLimit is evicted, and its emptyDir removed', async () => {
    await podOn(alpha.name, 'scratch-filler', {
      volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '10Mi' } }],
      containers: [
        {
          name: 'app',
          image: BUSYBOX,
          command: ['sh', '-c', 'dd if=/dev/zero of=/scratch/filler bs=1M count=20 && sleep 3600'],
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
          resources: { limits: { cpu: '200m', memory: '64Mi' } },
        },
      ],
    });
    const failed = await evictedPod('scratch-filler');
    expect(failed.status).toMatchObject({ reason: 'Evicted', message: 'Usage of EmptyDir volume "scratch" exceeds the limit "10Mi". ' });
    const volumes = async () => ((await docker.listVolumes({ filters: { label: [`lattice.dev/pod-uid=${failed.metadata!.uid}`] } })).Volumes ?? []).map((v) => v.Name);
    expect(await volumes()).toHaveLength(1);
    await deletePod('scratch-filler');
    await waitFor('its emptyDir removed', async () => (await volumes()).length === 0, { timeoutMs: 30_000 });
  });

  test('a pod that meets Pod Security restricted runs on a provider, in a namespace whose apiserver enforces it, narrowed as it asks', async () => {
    const restricted = `${namespace}-restricted`;
    await core.createNamespace({ body: { metadata: { name: restricted, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
    try {
      const container = (securityContext: k8s.V1SecurityContext): k8s.V1Container => ({ name: 'app', image: BUSYBOX, command: ['sleep', '3600'], securityContext });
      const body = (name: string, securityContext: k8s.V1SecurityContext): k8s.V1Pod => ({
        metadata: { name },
        spec: {
          tolerations: [providerToleration],
          nodeSelector: { 'kubernetes.io/hostname': alpha.name },
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [container(securityContext)],
        },
      });
      // The apiserver's own Pod Security admission refuses what restricted does not allow.
      await expect(core.createNamespacedPod({ namespace: restricted, body: body('loose', { allowPrivilegeEscalation: false }) })).rejects.toMatchObject({
        body: expect.stringMatching(/violates PodSecurity.*restricted.*unrestricted capabilities/),
      });
      await core.createNamespacedPod({
        namespace: restricted,
        body: body('strict', { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }),
      });
      await waitFor('the restricted pod Running', async () => (await core.readNamespacedPod({ namespace: restricted, name: 'strict' })).status?.phase === 'Running', { timeoutMs: 60_000 });
      expect(await kubectl(['exec', '-n', restricted, 'strict', '--', 'sh', '-c', 'id -u; grep CapBnd /proc/self/status'])).toMatch(/^1000\nCapBnd:\s+0000000000000400\n$/);
    } finally {
      await deletePod('strict', restricted).catch(() => undefined);
      await core.deleteNamespace({ name: restricted }).catch(() => undefined);
    }
  });

  test('a privileged pod is refused with a clear event, not run', async () => {
    await podOn(beta.name, 'privileged', {
      containers: [{ name: 'app', image: BUSYBOX, command: ['sleep', '3600'], securityContext: { privileged: true } }],
    });
    const pod = await waitFor('the pod to be refused', async () => {
      const p = await core.readNamespacedPod({ namespace, name: 'privileged' });
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    expect(pod.status?.reason).toBe('ProviderRefused');
    expect(pod.status?.message).toMatch(/privileged mode is not allowed/);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=privileged' });
    expect(events.items.map((e) => e.reason)).toContain('ProviderRefused');
    expect((await nodeContainers(beta.name)).filter((c) => c.Labels['lattice.dev/pod-name'] === 'privileged')).toEqual([]);
  });

  test('a DaemonSet that tolerates every taint gets its pod refused on a provider, with the reason, and nothing run', async () => {
    // A log shipper as clusters have them: every taint tolerated, a Secret mounted.
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'shipper-key' }, stringData: { key: 'cluster-wide-shipping-key' } } });
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDaemonSet({
      namespace,
      body: {
        metadata: { name: 'shipper' },
        spec: {
          selector: { matchLabels: { app: 'shipper' } },
          template: {
            metadata: { labels: { app: 'shipper' } },
            spec: {
              nodeSelector: { 'kubernetes.io/hostname': alpha.name },
              tolerations: [{ operator: 'Exists' }],
              volumes: [{ name: 'key', secret: { secretName: 'shipper-key' } }],
              containers: [{ name: 'ship', image: BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'key', mountPath: '/key' }] }],
            },
          },
        },
      },
    });
    try {
      const pod = await waitFor('the DaemonSet pod refused', async () => {
        const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=shipper' });
        return pods.items.find((p) => p.status?.phase === 'Failed');
      });
      expect(pod.spec?.nodeName).toBe(alpha.name);
      expect(pod.status).toMatchObject({ reason: 'ProviderRefused', message: expect.stringContaining('tolerates the lattice.dev/provider taint by its key') });
      expect((await nodeContainers(alpha.name)).filter((c) => c.Labels['lattice.dev/pod-name']?.startsWith('shipper-'))).toEqual([]);
    } finally {
      await apps.deleteNamespacedDaemonSet({ namespace, name: 'shipper' });
    }
  });

  test('data on a lattice-local volume survives the pod and stays on its provider', async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'data' },
        spec: { storageClassName: 'lattice-local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
      },
    });
    const withClaim = (name: string, command: string) =>
      core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name },
          spec: {
            tolerations: [providerToleration],
            // The scheduler picks which of this suite's providers (never another suite's) holds the data.
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: agents.map((a) => a.name) }] }] } } },
            terminationGracePeriodSeconds: 1,
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
            containers: [{ name: 'app', image: BUSYBOX, command: ['sh', '-c', command], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          },
        },
      });
    await withClaim('writer', 'echo persisted > /data/file && sleep 3600');
    const writer = await runningPod('writer');
    await core.deleteNamespacedPod({ namespace, name: 'writer' });
    await waitFor('the writer to be gone', async () => (await core.readNamespacedPod({ namespace, name: 'writer' }).catch(() => undefined)) === undefined, {
      timeoutMs: 30_000,
    });
    await withClaim('reader', 'cat /data/file; sleep 3600');
    const reader = await runningPod('reader');
    expect(reader.spec?.nodeName).toBe(writer.spec?.nodeName);
    await waitFor('the reader to print the data', async () => (await kubectl(['logs', '-n', namespace, 'reader'])) === 'persisted\n');

    // Reclaim policy Delete: once the claim goes, the provider's Docker volume and the PV go too.
    const claim = await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data' });
    const volumeName = `lattice-pv-${claim.spec!.volumeName}`;
    expect((await docker.getVolume(volumeName).inspect()).Name).toBe(volumeName);
    await core.deleteNamespacedPod({ namespace, name: 'reader' });
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: 'data' });
    await waitFor('the PV to be deleted', async () => (await core.readPersistentVolume({ name: claim.spec!.volumeName! }).catch(() => undefined)) === undefined, {
      timeoutMs: 60_000,
    });
    await expect(docker.getVolume(volumeName).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('the cluster registry, relayed by the gateway', () => {
  const image = `${REGISTRY}/builds/${namespace}/relayed:v1`;
  const relayed = (agent: AgentProcess, path: string, init: RequestInit = {}) =>
    fetch(`http://${relays.get(agent.name)}${path}`, { ...init, headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json', ...init.headers } });

  beforeAll(async () => {
    // A tenant's build, as a build would have pushed it.
    await run('docker', ['tag', BUSYBOX, image]);
    await run('docker', ['push', '-q', image]);
  }, 60_000);

  test("a pod's image of the cluster registry is pulled through its agent, and its status names it as the cluster does", async () => {
    await podOn(alpha.name, 'relayed', { containers: [{ name: 'app', image, command: ['sleep', '3600'], resources: { limits: { cpu: '100m', memory: '32Mi' } } }] });
    const pod = await runningPod('relayed');
    const status = pod.status!.containerStatuses![0]!;
    expect(status.image).toBe(image);
    expect(status.imageID).toMatch(new RegExp(`^${REGISTRY}/builds/${namespace}/relayed@sha256:[0-9a-f]{64}$`));
    // The engine holds it under the relay's name: the pull went through the agent, not to the registry.
    await expect(docker.getImage(`${relays.get(alpha.name)}/builds/${namespace}/relayed:v1`).inspect()).resolves.toBeDefined();
    const events = await waitFor('the Pulling event', async () => {
      const list = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=relayed' });
      return list.items.find((e) => e.reason === 'Pulling');
    });
    expect(events.message).toBe(`Pulling image "${image}"`);
  });

  test('a node reads only the images its own pods run, and Lattice\'s', async () => {
    expect((await relayed(alpha, `/v2/builds/${namespace}/relayed/manifests/v1`)).status).toBe(200);
    const refused = await relayed(beta, `/v2/builds/${namespace}/relayed/manifests/v1`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ errors: [{ code: 'DENIED', message: `no pod bound to this node runs an image of builds/${namespace}/relayed` }] });
    expect((await relayed(beta, '/v2/lattice/busybox/manifests/1')).status).toBe(200);
    expect((await relayed(beta, '/v2/_catalog')).status).toBe(403);
  });

  test("no node pushes over Lattice's images or a tenant's build", async () => {
    for (const repository of ['lattice/busybox', `builds/${namespace}/relayed`]) {
      const push = await relayed(alpha, `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
      expect(push.status).toBe(403);
      expect(((await push.json()) as { errors: { message: string }[] }).errors[0]!.message).toContain('only a build bound to this node pushes');
    }
  });
});

describe('pods with big Secrets', () => {
  // A Secret holds at most 1 MiB: a pod mounting two is about 2 MiB on the wire, three of them more
  // than grpc-js's 4 MiB default, and more than one podSync part.
  const big = (i: number) => `big-${i}`;
  const withSecrets = (count: number, from = 0): Partial<k8s.V1PodSpec> => ({
    volumes: Array.from({ length: count }, (_, i) => ({ name: `s${i}`, secret: { secretName: big(from + i) } })),
    containers: [
      {
        name: 'app',
        image: BUSYBOX,
        command: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"],
        volumeMounts: Array.from({ length: count }, (_, i) => ({ name: `s${i}`, mountPath: `/s${i}` })),
      },
    ],
  });

  beforeAll(async () => {
    for (let i = 0; i < 9; i++) {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: big(i) }, data: { blob: randomBytes(1000 * 1024).toString('base64') } } });
    }
  });
  // The tests after these run with the node as it was.
  afterAll(async () => {
    await kubectl(['delete', 'pod', 'big-pod-0', 'big-pod-1', 'big-pod-2', 'too-big', '-n', namespace, '--wait=true', '--timeout=60s']).catch(() => undefined);
    for (let i = 0; i < 9; i++) await core.deleteNamespacedSecret({ namespace, name: big(i) }).catch(() => undefined);
  }, 90_000);

  test('pods whose Secrets come to more than one message run, and a restarted agent takes them back in parts, none restarted', async () => {
    for (let p = 0; p < 3; p++) await podOn(alpha.name, `big-pod-${p}`, withSecrets(2, 2 * p));
    for (let p = 0; p < 3; p++) await runningPod(`big-pod-${p}`);
    const bigContainers = async () =>
      (await nodeContainers(alpha.name)).filter((c) => c.State === 'running' && c.Labels['lattice.dev/pod-name']?.startsWith('big-pod-')).map((c) => c.Id).sort();
    const app = (await nodeContainers(alpha.name)).find((c) => c.Labels['lattice.dev/pod-name'] === 'big-pod-2' && c.Labels['lattice.dev/container'] === 'app')!;
    const { stdout } = await run('docker', ['exec', app.Id, 'sh', '-c', 'wc -c < /s0/blob; wc -c < /s1/blob']);
    expect(stdout.split('\n').filter(Boolean).map(Number)).toEqual([1000 * 1024, 1000 * 1024]);

    // On connecting, the agent is sent all its pods: about 6 MiB here, more than one part.
    const before = await bigContainers();
    await stopAgent(alpha);
    runAgent(alpha);
    await waitFor('the node to be Ready again', () => readyNode(alpha.name), { timeoutMs: 60_000 });
    for (let p = 0; p < 3; p++) await runningPod(`big-pod-${p}`);
    expect(await bigContainers()).toEqual(before);
    expect(before.length).toBeGreaterThanOrEqual(3); // each pod has its app container, and a sandbox
    expect(alpha.output.join('')).not.toMatch(/RESOURCE_EXHAUSTED|larger than max/);
  });

  test('a pod whose Secrets come to more than a provider is sent is refused, saying how big, and the node serves on', async () => {
    await podOn(alpha.name, 'too-big', withSecrets(9));
    const pod = await waitFor('the pod refused', async () => {
      const p = await core.readNamespacedPod({ namespace, name: 'too-big' });
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    expect(pod.status).toMatchObject({ reason: 'ProviderRefused', message: expect.stringMatching(/comes to 8\.\d MiB; a provider is sent at most 8\.0 MiB per pod/) });
    expect(await readyNode(alpha.name)).toBeDefined();
  });
});

describe('agent loss and restart', () => {
  test('a killed agent makes its Node NotReady within the grace while its containers keep running', async () => {
    await runningPod('web');
    const before = (await nodeContainers(alpha.name)).filter((c) => c.State === 'running').map((c) => c.Id).sort();
    await stopAgent(alpha, 'SIGKILL');
    await waitFor(
      'the node to turn NotReady',
      async () => (await core.readNode({ name: alpha.name })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False',
      { timeoutMs: 15_000 },
    );
    const after = (await nodeContainers(alpha.name)).filter((c) => c.State === 'running').map((c) => c.Id).sort();
    expect(after).toEqual(before);
  });

  test('a restarted agent adopts its containers: none restarted, pod status right', async () => {
    const before = (await nodeContainers(alpha.name)).filter((c) => c.State === 'running').map((c) => c.Id).sort();
    runAgent(alpha);
    await waitFor('the node to be Ready again', () => readyNode(alpha.name), { timeoutMs: 60_000 });
    const pod = await runningPod('web');
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    const after = (await nodeContainers(alpha.name)).filter((c) => c.State === 'running').map((c) => c.Id).sort();
    expect(after).toEqual(before);
  });

  test('an agent killed (-9) in the middle of creating a pod runs it once restarted: one sandbox, one container', async () => {
    await podOn(alpha.name, 'midway', { containers: [{ name: 'app', image: BUSYBOX, command: ['sleep', '3600'] }] });
    const ofMidway = async () => (await nodeContainers(alpha.name)).filter((c) => c.Labels['lattice.dev/pod-name'] === 'midway');
    // Killed as soon as the pod's first container (its sandbox) exists, before the rest is made.
    await waitFor('the pod\'s first container', async () => (await ofMidway()).length > 0, { timeoutMs: 60_000, intervalMs: 10 });
    await stopAgent(alpha, 'SIGKILL');
    runAgent(alpha);
    await waitFor('the node to be Ready again', () => readyNode(alpha.name), { timeoutMs: 60_000 });
    await runningPod('midway');
    const left = await ofMidway();
    expect(left.map((c) => `${c.Labels['lattice.dev/container']} ${c.State}`).sort()).toEqual(['_sandbox running', 'app running']);
    await deletePod('midway');
  });
});

describe('gateway restart', () => {
  test('after a gateway restart the agents reconnect and nothing is re-created', async () => {
    await runningPod('web');
    const before = (await nodeContainers(alpha.name)).map((c) => c.Id).sort();
    const port = running.gateway.port;
    await running.stop();
    running = await startGateway(kc, gatewayOptions({ grpcAddress: `127.0.0.1:${port}` }), pino({ level: 'warn' }), new Registry());
    await waitFor('both agents reconnected', () => agents.every((a) => running.gateway.connection(a.name) !== undefined), { timeoutMs: 60_000 });
    const pod = await runningPod('web');
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect((await nodeContainers(alpha.name)).map((c) => c.Id).sort()).toEqual(before);
  });

  test('a pod whose Secret was deleted keeps running through a gateway restart, as a kubelet keeps it', async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'kept-creds' }, stringData: { token: 'k3pt' } } });
    await podOn(alpha.name, 'kept', {
      volumes: [{ name: 'creds', secret: { secretName: 'kept-creds' } }],
      containers: [{ name: 'app', image: BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'creds', mountPath: '/creds', readOnly: true }] }],
    });
    await runningPod('kept');
    const kept = (await nodeContainers(alpha.name)).filter((c) => c.Labels['lattice.dev/pod-name'] === 'kept').map((c) => c.Id);
    await core.deleteNamespacedSecret({ namespace, name: 'kept-creds' });

    // The restarted gateway fills its caches without the Secret: it cannot describe the pod to the agent.
    const since = Math.floor(Date.now() / 1000);
    const port = running.gateway.port;
    await running.stop();
    running = await startGateway(kc, gatewayOptions({ grpcAddress: `127.0.0.1:${port}` }), pino({ level: 'warn' }), new Registry());
    await waitFor('alpha reconnected', () => running.gateway.connection(alpha.name) !== undefined, { timeoutMs: 60_000 });
    // A pod sent after the agent's pod set has come and been acted on (a removal starts with a kill at once).
    await podOn(alpha.name, 'after-restart');
    await runningPod('after-restart');

    const stops = await engineEvents(since, kept, ['kill', 'stop', 'die', 'destroy']);
    expect(stops).toEqual([]);
    expect(await kubectl(['exec', '-n', namespace, 'kept', '--', 'cat', '/creds/token'])).toBe('k3pt');
    const pod = await core.readNamespacedPod({ namespace, name: 'kept' });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    await deletePod('after-restart');
  });

  test('after a long outage an agent is connected within 5 s of the gateway answering again', async () => {
    const port = running.gateway.port;
    await running.stop();
    // Long enough for any growing backoff to pass 5 s: the agent dialled in vain several times.
    const dials = () => alpha.output.join('').split('"msg":"reconnecting to the gateway"').length - 1;
    const before = dials();
    await waitFor('the agent to have dialled a dead gateway 6 times', () => dials() - before >= 6, { timeoutMs: 60_000 });
    running = await startGateway(kc, gatewayOptions({ grpcAddress: `127.0.0.1:${port}` }), pino({ level: 'warn' }), new Registry());
    // It answers once started: its caches are filled first (a second here, with the big Secrets above).
    const up = Date.now();
    await waitFor('alpha reconnected', () => running.gateway.connection(alpha.name) !== undefined, { timeoutMs: 60_000, intervalMs: 100 });
    const reconnectedIn = Date.now() - up;
    console.log(`reconnected ${reconnectedIn} ms after the gateway answered again`);
    expect(reconnectedIn).toBeLessThan(5_000);
  });

  test('a dial that is never answered is given up, and the gateway is dialled again on a new connection', async () => {
    const port = running.gateway.port;
    await running.stop();
    // What a SYN sent to a gateway pod that has just gone meets: nothing, for minutes. Here a
    // listener that takes the connection and never says a word of TLS.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const giveUps = () => alpha.output.join('').split('no connection to the gateway in time').length - 1;
    const before = giveUps();
    try {
      await waitFor('the agent to give up two silent dials', () => giveUps() - before >= 2, { timeoutMs: 20_000 });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    running = await startGateway(kc, gatewayOptions({ grpcAddress: `127.0.0.1:${port}` }), pino({ level: 'warn' }), new Registry());
    await waitFor('alpha reconnected', () => running.gateway.connection(alpha.name) !== undefined, { timeoutMs: 10_000, intervalMs: 100 });
  });
});

describe('hostile peers', () => {
  test("a second agent with its own valid certificate can neither see nor write the first agent's pods", async () => {
    const web = await runningPod('web');
    const identity = await loadIdentity(beta.stateDir);
    const client = gatewayClient(
      gatewayAddress,
      grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certificatePem)),
    );
    const connections = () => beta.output.join('').split('connected to the gateway').length - 1;
    const connectedBefore = connections();
    const call = client.Connect();
    const received: unknown[] = [];
    call.on('data', (m: unknown) => received.push(m));
    call.on('error', () => undefined);
    call.write({ hello: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'rogue', offer: { cpuMillis: 1000, memoryBytes: 2 ** 30, maxPods: 10, labels: {} } } });
    const sync = await waitFor('the rogue session to get its pod list', () => {
      const msg = received.map((m) => GatewayMessageSchema.safeParse(m)).find((p) => p.success && p.data.msg === 'podSync');
      return msg?.success ? msg.data : undefined;
    });
    expect(sync.msg === 'podSync' && sync.podSync.pods.map((p) => p.uid)).not.toContain(web.metadata!.uid);
    // Claim the first agent's pod failed: the gateway must not write it.
    call.write({
      podStatus: { uid: web.metadata!.uid, phase: 'Failed', reason: 'Rogue', message: 'forged', containerStatuses: [], initContainerStatuses: [] },
    });
    call.end();
    client.close();
    // The real beta agent reconnects (it was displaced by the rogue); web's status never became the forged one.
    await waitFor('the real beta agent back', () => running.gateway.connection(beta.name) !== undefined && connections() > connectedBefore, {
      timeoutMs: 30_000,
    });
    const after = await core.readNamespacedPod({ namespace, name: 'web' });
    expect(after.status?.phase).toBe('Running');
    expect(after.status?.reason).not.toBe('Rogue');
  });
});

describe('admission', () => {
  test('a pod bound with spec.nodeName past what the provider offers is rejected as a kubelet rejects it, and never runs', async () => {
    const created = await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'too-big' },
        spec: {
          nodeName: alpha.name, // no scheduler looks at it
          tolerations: [providerToleration],
          containers: [{ name: 'app', image: BUSYBOX, command: ['sleep', '3600'], resources: { requests: { cpu: '64', memory: '32Mi' } } }],
        },
      },
    });
    const pod = await waitFor('the pod rejected', async () => {
      const p = await core.readNamespacedPod({ namespace, name: 'too-big' });
      return p.status?.phase === 'Failed' && p;
    });
    expect(pod.status?.reason).toBe('OutOfcpu');
    expect(pod.status?.message).toMatch(/^Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: \d+, capacity: 1000$/);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${created.metadata!.uid},reason=OutOfcpu` });
    expect(events.items).toHaveLength(1);
    expect((await nodeContainers(alpha.name)).filter((c) => c.Labels['lattice.dev/pod-uid'] === created.metadata!.uid)).toEqual([]);
    await runningPod('web'); // the pods admitted before keep running
    await core.deleteNamespacedPod({ namespace, name: 'too-big' });
  });
});

describe('a provider that floods and lies', () => {
  test("writes only within a kubelet's budget, and no address it makes up lands", async () => {
    const victim = await podOn(beta.name, 'flooded');
    await runningPod('flooded');
    const uid = victim.metadata!.uid!;
    // The real beta agent would take its node back mid-flood; its containers keep running meanwhile.
    await stopAgent(beta, 'SIGKILL');
    const identity = await loadIdentity(beta.stateDir);
    const client = gatewayClient(gatewayAddress, grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certificatePem)));
    const call = client.Connect();
    const received: unknown[] = [];
    call.on('data', (m: unknown) => received.push(m));
    call.on('error', () => undefined);
    const offer = (cpuMillis: number) => ({ cpuMillis, memoryBytes: 2 ** 30, maxPods: 10, labels: {} });
    call.write({ hello: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'rogue', offer: offer(1000) } });
    await waitFor('the rogue session to get its pod list', () => received.some((m) => GatewayMessageSchema.safeParse(m).data?.msg === 'podSync'));

    // Every write to beta's Node while the flood lasts.
    let nodeWrites = 0;
    const watch = await new k8s.Watch(kc).watch('/api/v1/nodes', { fieldSelector: `metadata.name=${beta.name}` }, (phase) => phase === 'MODIFIED' && nodeWrites++, () => undefined);
    try {
      for (let i = 0; i < 500; i++) call.write({ podEvent: { podUid: uid, type: 'Warning', reason: 'Flood', message: `flood ${i}` } });
      for (let i = 0; i < 1000; i++) call.write({ offer: offer(i % 2 ? 1500 : 2500) });
      call.write({ offer: offer(3000) });
      call.write({
        podStatus: { uid, phase: 'Running', reason: 'Rogue', message: 'made up', podIp: '127.0.0.1', tailnetAddress: 'attacker.example', containerStatuses: [], initContainerStatuses: [] },
      });
      // The newest offer is the one the Node shows: coalescing lost nothing.
      await waitFor('the last offer on the Node', async () => (await core.readNode({ name: beta.name })).status?.capacity?.cpu === '3', { timeoutMs: 30_000 });
      const pod = await waitFor('the made-up status written', async () => {
        const p = await core.readNamespacedPod({ namespace, name: 'flooded' });
        return p.status?.reason === 'Rogue' && p;
      });
      expect(pod.status?.podIP).not.toBe('127.0.0.1');
      expect(pod.status?.podIPs ?? []).not.toContainEqual({ ip: '127.0.0.1' });
      expect(pod.metadata?.annotations?.['lattice.dev/tailnet-address']).toBeUndefined();
      expect(nodeWrites).toBeLessThan(200); // 1001 offers; each would have been a write
      const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid},reason=Flood` });
      expect(events.items.length).toBeGreaterThan(0);
      expect(events.items.length).toBeLessThanOrEqual(25); // client-go's burst per object, of 500 sent
    } finally {
      watch.abort();
      call.end();
      client.close();
    }
    // The real beta agent comes back and puts the truth back.
    runAgent(beta);
    await waitFor('the real beta agent back', () => running.gateway.connection(beta.name) !== undefined && beta.output.join('').includes('connected to the gateway'), { timeoutMs: 30_000 });
    await runningPod('flooded');
    await core.deleteNamespacedPod({ namespace, name: 'flooded' });
  });
});

describe('a web page on the provider', () => {
  test("cannot read the agent's admin API or registry relay by rebinding a name to loopback", async () => {
    // What a browser sends after DNS rebinding: the page's own name in Host, to 127.0.0.1.
    const get = (address: string, path: string, host?: string) =>
      new Promise<number>((resolve, reject) => {
        const [hostname, port] = address.split(':');
        http.get({ host: hostname, port: Number(port), path, headers: host ? { host } : {} }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
      });
    const admin = /"admin":"http:\/\/(127\.0\.0\.1:\d+)"/.exec(alpha.output.join(''))?.[1];
    expect(admin).toBeDefined();
    const relay = relays.get(alpha.name)!;
    // Positive control: as the desktop app and the engine ask, they answer.
    expect(await get(admin!, '/pods')).toBe(200);
    expect(await get(relay, '/v2/')).toBe(200);
    expect(await get(admin!, '/pods', 'rebound.example')).toBe(421);
    expect(await get(relay, '/v2/', `rebound.example:${relay.split(':')[1]}`)).toBe(421);
  });
});

describe('availability', () => {
  test('outside its availability window a provider gets nothing new', async () => {
    // A window that is never open now: one minute long, on a day that is not today (in UTC).
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const notToday = days[(new Date().getUTCDay() + 3) % 7];
    const config = `gateway: ${gatewayAddress}\ncpu: "1"\nmemory: 1Gi\nmaxPods: 10\navailability:\n  timeZone: UTC\n  days: [${notToday}]\n  start: "03:00"\n  end: "03:01"\n`;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${beta.stateDir}/config.yaml`, config);
    await waitFor(
      'the outside-hours taint on beta',
      async () => (await core.readNode({ name: beta.name })).spec?.taints?.some((t) => t.key === 'lattice.dev/outside-hours'),
      { timeoutMs: 30_000 },
    );
    await podOn(beta.name, 'after-hours');
    const pod = await waitFor('the scheduler to refuse the pod', async () => {
      const p = await core.readNamespacedPod({ namespace, name: 'after-hours' });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False') ? p : undefined;
    });
    expect(pod.spec?.nodeName).toBeUndefined();
    // kube-scheduler 1.35 counts untolerated taints without naming them; the taint is checked above.
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toMatch(/node\(s\) had untolerated taint/);
  });
});

describe('revocation', () => {
  test('revoking a node stops its connection, its agent, and removes its Node', async () => {
    expect(await revokeNode(core, gatewayNamespace, beta.name)).toBe(true);
    await waitForExit(beta);
    expect(beta.output.join('')).toMatch(/revoked/);
    await waitFor('the Node to be removed', async () => (await core.readNode({ name: beta.name }).catch(() => undefined)) === undefined);
  });

  test('a revoked name is not given out again, so no later join inherits what was bound to it', async () => {
    const { token } = await running.gateway.createJoinToken(600, 1);
    const again = await joinAgent({ gateway: gatewayAddress, token, name: beta.name, stateDir: await newStateDir('again') });
    expect(again.code).not.toBe(0);
    expect(again.output).toMatch(new RegExp(`the node name "${beta.name}" was revoked at \\S+ and is not given out again`));
    expect(await core.readNode({ name: beta.name }).catch(() => undefined)).toBeUndefined();
  });
});

describe('certificate rotation', () => {
  const gamma: AgentProcess = { name: `gamma-${suffix}`, stateDir: '', output: [] };
  const shortNamespace = `${gatewayNamespace}-short`;
  let short: RunningGateway;

  afterAll(async () => {
    await stopAgent(gamma);
    await short?.stop();
    await core.deleteNode({ name: gamma.name }).catch(() => undefined);
    await core.deleteNamespace({ name: shortNamespace }).catch(() => undefined);
    await cleanupNodes([gamma.name], [gamma.stateDir].filter(Boolean));
  });

  test('an agent renews its node certificate before it expires, and the old one is refused from then on', async () => {
    await core.createNamespace({ body: { metadata: { name: shortNamespace } } });
    // A gateway whose node certificates live 10 s: renewed at 70%, about 7 s after each is issued.
    short = await startGateway(kc, GatewayOptionsSchema.parse({ grpcAddress: '127.0.0.1:0', namespace: shortNamespace, kubeletPort: 0, registry: REGISTRY, nodeCertificateSeconds: 10 }), pino({ level: 'warn' }), new Registry());
    const address = `127.0.0.1:${short.gateway.port}`;
    gamma.stateDir = await newStateDir(gamma.name);
    const { token } = await short.gateway.createJoinToken(600, 1);
    expect(await joinAgent({ gateway: address, token, name: gamma.name, stateDir: gamma.stateDir, extra: ['--cpu', '1', '--memory', '1Gi'] })).toMatchObject({ code: 0 });
    const joined = await loadIdentity(gamma.stateDir);
    runAgent(gamma);
    const connections = () => gamma.output.join('').split('connected to the gateway').length - 1;
    await waitFor('the certificate renewed and the agent connected with the new one', () => gamma.output.join('').includes('renewed the node certificate') && connections() >= 2, { timeoutMs: 30_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\nthe agent said:\n${gamma.output.join('')}`);
    });
    const renewed = await loadIdentity(gamma.stateDir);
    expect(renewed.certificatePem).not.toBe(joined.certificatePem);
    expect(renewed.keyPem).not.toBe(joined.keyPem); // a new key, not only a new certificate
    await waitFor('the Node Ready', () => readyNode(gamma.name));

    // Whoever kept the first certificate (and its key) is refused, though it has not expired yet.
    const stolen = gatewayClient(address, grpc.credentials.createSsl(Buffer.from(joined.caPem), Buffer.from(joined.keyPem), Buffer.from(joined.certificatePem)));
    const call = stolen.Connect();
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write({ hello: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'thief', offer: { cpuMillis: 1000, memoryBytes: 2 ** 30, maxPods: 10, labels: {} } } });
    expect((await status).details).toMatch(/revoked or re-joined with another certificate/);
    stolen.close();
    // The real agent serves on (renewing every 7 s here, so it may be between two connections).
    await waitFor('the real agent connected', () => short.gateway.connection(gamma.name) !== undefined);
  });
});
