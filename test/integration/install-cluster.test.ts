// Lattice installed in a real cluster and used as a platform team and its users would, real parts
// only: the embedded control plane with two real kubelet nodes (hack/kubelet-nodes), the release
// images from the local registry (make images), test/install (config/dev behind NodePorts, as on a
// cluster without load balancers), and a provider on a machine of its own behind NAT (hack/machines)
// that reaches the cluster only at the nodes' NodePorts:
//   - both operator replicas run in the cluster under their own ServiceAccount, one leads;
//   - a right missing from the RBAC is a Warning Event on the operator's pod, until applied again;
//   - a join token comes from the installed operator (kubectl exec ... lattice token create);
//   - the agent joins at the gateway Service's NodePort; a Workload runs on it, its public URL
//     answers from the internet through the in-cluster ingress, kubectl logs -f and exec -it reach
//     it through the apiserver, which dials the gateway's kubelet API at the leader pod's address;
//   - deleting the leader pod: the other replica leads, the agent is back within 15 s, and the
//     provider's container is the same one, never restarted;
//   - the in-cluster console signs a namespaced user in (real Chromium) and lists the Workload;
//   - the kuttl suites pass against this install;
//   - the README's uninstall leaves nothing of the install but the CRDs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, stringify as toYaml } from 'yaml';
import { adminKubeConfig, binDir, kubeconfigPath, kubectl, repoRoot, secretData, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { launchChromium, namespaceEditor, signInAndOpen } from '../support/console.js';
import { CRDS, OPERATOR_SA, SYSTEM, expectNoInstall, explainedByInstall, leftovers, systemGone, uninstallArgs } from '../support/install.js';
import { KUBELET_NODE_LABEL, ensureKubeletNodes, kubeletNodesPossible, removeKubeletNodes } from '../support/kubelet-nodes.js';
import { createMachine, ensureInternet, removeAllMachines, spawnInMachine, type Machine, type MachineProcess } from '../support/machines.js';
import { spawnCaptured, type CapturedProcess } from '../support/processes.js';
import { condition, workloadReader } from '../support/workloads.js';

const OVERLAY = 'test/install';
// test/install/kustomization.yaml: the nodes' addresses and the NodePorts it fixes.
const NODE_ADDRESSES = ['198.18.128.11', '198.18.128.12'];
const GATEWAY_NODE_PORT = 30743;
const INGRESS_NODE_PORT = 30443;
const BASE_DOMAIN = 'apps.lattice.test';
// The provider's label that the kuttl suites' Workloads select, and this suite's too.
const PROVIDER_LABELS = { 'provider.lattice.dev/suite': 'kuttl' };
const KUTTL_NAMESPACE = 'lattice-kuttl'; // test/kuttl/kuttl-install.yaml's

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const namespace = uniqueName('it-installed');
const node = `${namespace}-provider`;
const { waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 120_000, intervalMs: 500 });
const AGENT = ['--import', 'tsx', 'agent/src/cli.ts'];

let machine: Machine;
let agent: MachineProcess | undefined;

// With CLUSTER=existing there are no kubelet nodes of ours to install on.
const describeInstalled = kubeletNodesPossible() ? describe : describe.skip;

const operatorPods = async () =>
  (await core.listNamespacedPod({ namespace: SYSTEM, labelSelector: 'app.kubernetes.io/name=lattice-operator' })).items.filter((p) => !p.metadata?.deletionTimestamp);

const isReady = (conditions?: Array<{ type: string; status: string }>) => conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The Running, Ready operator replicas, once there are two and exactly one carries the leader label. */
async function replicasWithOneLeader(): Promise<{ leader: k8s.V1Pod; pods: k8s.V1Pod[] }> {
  return explainedByInstall(
    waitFor(
      'two Ready operator replicas, one labelled leader',
      async () => {
        const pods = (await operatorPods()).filter((p) => p.status?.phase === 'Running' && isReady(p.status.conditions));
        const leaders = pods.filter((p) => p.metadata?.labels?.['lattice.dev/leader'] === 'true');
        return pods.length === 2 && leaders.length === 1 && { leader: leaders[0]!, pods };
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    ),
  );
}

/** The first Warning Event of `reason` on an operator pod not in `before`. */
async function eventOnNewOperatorPod(reason: string, before: Set<string>): Promise<k8s.CoreV1Event> {
  return explainedByInstall(
    waitFor(
      `a ${reason} Event on a new operator pod`,
      async () =>
        (await core.listNamespacedEvent({ namespace: SYSTEM, fieldSelector: `involvedObject.kind=Pod,reason=${reason}` })).items.find(
          (e) => e.involvedObject.name?.startsWith('lattice-operator-') && !before.has(e.involvedObject.name),
        ),
      { timeoutMs: 180_000, intervalMs: 500 },
    ),
  );
}

async function providerNode(): Promise<k8s.V1Node | undefined> {
  return core.readNode({ name: node }).catch(() => undefined);
}

/** The one replica of the Workload `web`, Running. */
async function webPod(): Promise<k8s.V1Pod> {
  return waitFor('the pod of web', async () => {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=web' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    return pods.length === 1 && pods[0]!.status?.phase === 'Running' && pods[0]!;
  });
}

/** Starts `kubectl ARGS`, its output captured until it is stopped. */
const kubectlProcess = (args: string[]): CapturedProcess => spawnCaptured(path.join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], process.env);

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  await closed;
}

async function saveAgentLog(): Promise<void> {
  if (agent) await writeFile(path.join(stateDir, 'logs', 'install-cluster-agent.log'), agent.output.join('')).catch(() => undefined);
}

describeInstalled('Lattice installed in a cluster of real kubelet nodes', () => {
  beforeAll(async () => {
    await expectNoInstall();
    await ensureKubeletNodes(2);
    await ensureInternet();
    machine = await createMachine();
    await kubectl(['apply', '--server-side', '-k', path.join(repoRoot, OVERLAY)]);
    await kubectl(['create', 'namespace', namespace]);
  }, 600_000);

  afterAll(async () => {
    await saveAgentLog();
    // The users' objects first, while the agent and the operator still run to remove their pods.
    await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--timeout=90s']).catch(() => undefined);
    await stopProcess(agent?.child);
    await kubectl([...uninstallArgs(OVERLAY), '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'node', node, '--ignore-not-found']).catch(() => undefined);
    await removeAllMachines();
    // Untainted real nodes would take other suites' pods.
    await removeKubeletNodes();
  }, 300_000);

  test('both operator replicas run on the kubelet nodes under their own ServiceAccount, and one leads', async () => {
    const { leader, pods } = await replicasWithOneLeader();
    const kubeletNodes = (await core.listNode({ labelSelector: `${KUBELET_NODE_LABEL}=true` })).items.map((n) => n.metadata!.name!);
    for (const pod of pods) {
      expect(pod.spec?.serviceAccountName).toBe('lattice-operator');
      expect(kubeletNodes).toContain(pod.spec?.nodeName);
    }
    const lease = await coordination.readNamespacedLease({ name: 'lattice-operator', namespace: SYSTEM });
    // Its identity: the pod's name and a per-process suffix.
    expect(lease.spec?.holderIdentity?.split('_')[0]).toBe(leader.metadata!.name);
    // Every request the operator makes is its ServiceAccount's, as the apiserver sees it.
    expect(await kubectl(['auth', 'whoami', '--as', OPERATOR_SA, '-o', 'jsonpath={.status.userInfo.username}'])).toBe(OPERATOR_SA);
  }, 200_000);

  test('a right missing from the RBAC: a Warning Event on the operator pod names it, and applying the install again mends it', async () => {
    const role = (await rbac.readClusterRole({ name: 'lattice-operator' })) as k8s.V1ClusterRole;
    const withoutConfigMaps = (role.rules ?? []).filter((r) => !r.resources?.includes('configmaps'));
    expect(withoutConfigMaps.length).toBe((role.rules ?? []).length - 1);
    await rbac.replaceClusterRole({ name: 'lattice-operator', body: { ...role, rules: withoutConfigMaps } });
    const before = new Set((await operatorPods()).map((p) => p.metadata!.name!));
    await core.deleteCollectionNamespacedPod({ namespace: SYSTEM, labelSelector: 'app.kubernetes.io/name=lattice-operator' });
    const event = await eventOnNewOperatorPod('Forbidden', before);
    expect([event.type, event.message]).toEqual([
      'Warning',
      'configmaps is forbidden: User "system:serviceaccount:lattice-system:lattice-operator" cannot list resource "configmaps" in API group "" at the cluster scope; the operator\'s RBAC (config/rbac) grants it: apply it again',
    ]);
    // Said once per pod, not at every retry.
    const perPod = (await core.listNamespacedEvent({ namespace: SYSTEM, fieldSelector: `involvedObject.name=${event.involvedObject.name},reason=Forbidden` })).items;
    expect(perPod).toHaveLength(1);
    // The edit above took the rules over: the platform team's apply takes them back.
    await kubectl(['apply', '--server-side', '--force-conflicts', '-k', path.join(repoRoot, OVERLAY)]);
    await replicasWithOneLeader();
  }, 400_000);

  test("a provider on a machine behind NAT joins at the gateway Service's NodePort with a token from the installed operator", async () => {
    const token = (await kubectl(['-n', SYSTEM, 'exec', 'deploy/lattice-operator', '--', 'lattice', 'token', 'create', '--ttl', '10m', '--uses', '1'])).trim();
    expect(token).toMatch(/^lt1\./);
    // As a user does: a label to place this suite's Workloads by, then join with the address and the token.
    const stateDirOf = path.join(machine.home, '.lattice-agent');
    await mkdir(stateDirOf, { recursive: true, mode: 0o700 });
    await writeFile(path.join(stateDirOf, 'config.yaml'), toYaml({ labels: PROVIDER_LABELS }), { mode: 0o600 });
    const join = spawnInMachine(machine, process.execPath, [
      ...AGENT,
      ...['join', '--gateway', `${NODE_ADDRESSES[0]}:${GATEWAY_NODE_PORT}`, '--token', token, '--name', node, '--cpu', '1', '--memory', '1Gi'],
    ]);
    const code = await join.done;
    if (code !== 0) throw new Error(`lattice-agent join failed (${code}): ${join.output.join('')}`);
    agent = spawnInMachine(machine, process.execPath, [...AGENT, 'run']);
    const ready = await waitFor('the provider Node Ready', async () => {
      const n = await providerNode();
      return isReady(n?.status?.conditions) && n;
    });
    // The apiserver reaches the node's kubelet API at the leader pod's address.
    const { leader } = await replicasWithOneLeader();
    expect(ready.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toBe(leader.status?.podIP);
  }, 120_000);

  test('a Workload runs on it, and its public URL answers from the internet through the in-cluster ingress', async () => {
    const manifest = {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'Workload',
      metadata: { name: 'web', namespace },
      spec: {
        // Docker Hub's name, as a user writes it: the machine's engine pulls it from the public registry.
        image: 'busybox:1.36',
        // httpd in the background, and a line a second for `kubectl logs -f`; TERM ends it at once.
        command: ['sh', '-c', 'trap "exit 0" TERM; mkdir -p /tmp/www && echo "hello from $(hostname)" > /tmp/www/index.html && httpd -p 8080 -h /tmp/www; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'],
        ports: [{ name: 'http', port: 8080, protocol: 'HTTP', expose: 'public' }],
        resources: { cpu: '50m', memory: '32Mi' },
        placement: { providerSelector: PROVIDER_LABELS },
      },
    };
    await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
    const wl = await waitForStatus('web', 'Ready', (w) => condition(w, 'Ready')?.status === 'True');
    const url = `https://web--${namespace}.${BASE_DOMAIN}:${INGRESS_NODE_PORT}`;
    expect(wl.status?.endpoints).toEqual([{ port: 'http', url }]);
    const pod = await webPod();
    expect(pod.spec?.nodeName).toBe(node);

    // A wildcard DNS record would give the nodes' addresses: either node's NodePort serves it.
    const caFile = path.join(machine.dir, 'gateway-ca.crt');
    await writeFile(caFile, secretData(await core.readNamespacedSecret({ name: 'lattice-gateway-ca', namespace: SYSTEM }))['tls.crt']!);
    const host = new URL(url).hostname;
    for (const address of NODE_ADDRESSES) {
      const res = await machine.exec(['curl', '-fsS', '--max-time', '10', '--cacert', caFile, '--resolve', `${host}:${INGRESS_NODE_PORT}:${address}`, url]);
      expect([address, res.code, res.stdout.trim(), res.stderr]).toEqual([address, 0, `hello from ${pod.metadata!.name}`, '']);
    }
  }, 180_000);

  test('kubectl logs -f and exec -it reach the container through the apiserver', async () => {
    const pod = (await webPod()).metadata!.name!;
    const logs = kubectlProcess(['logs', '-f', '-n', namespace, pod]);
    try {
      // Lines written after it started arrive on the open stream.
      const first = await waitFor('a tick in kubectl logs -f', () => /tick (\d+)/.exec(logs.output.join(''))?.[1]);
      await waitFor('a later tick on the same stream', () => logs.output.join('').includes(`tick ${Number(first) + 2}\n`), { timeoutMs: 20_000 });
    } finally {
      await stopProcess(logs.child);
    }
    // -t needs a terminal: script(1) gives kubectl one, as a user's shell would.
    const command = `${path.join(binDir, 'kubectl')} --kubeconfig ${kubeconfigPath} exec -it -n ${namespace} ${pod} -- sh -c 'tty && echo answer-$((6*7))'`;
    // Its stdin stays open (at its end, script would type an EOF into the terminal).
    const script = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    script.stdout.on('data', (d: Buffer) => (out += d.toString()));
    script.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await Promise.all([new Promise<number | null>((resolve) => script.on('exit', resolve)), new Promise((resolve) => script.stdout.on('end', resolve))]);
    script.stdin.end();
    expect([code, out]).toEqual([0, expect.stringMatching(/^\/dev\/pts\/\d+\r\nanswer-42\r\n$/)]);
  }, 60_000);

  test('the leader pod deleted: the other replica leads, the agent is back within 15 s, the container never restarts', async () => {
    const { leader } = await replicasWithOneLeader();
    const before = (await webPod()).status!.containerStatuses![0]!;
    const reconnects = () => agent!.output.join('').split('connected to the gateway').length;
    const connectedBefore = reconnects();
    const deletedAt = Date.now();
    await core.deleteNamespacedPod({ name: leader.metadata!.name!, namespace: SYSTEM });

    // The agent sees its stream end, and connects again through the same NodePort to the new leader.
    await waitFor('the agent connected again', () => reconnects() > connectedBefore, { timeoutMs: 15_000, intervalMs: 100 });
    const backInMs = Date.now() - deletedAt;
    const next = await replicasWithOneLeader();
    expect(next.leader.metadata!.name).not.toBe(leader.metadata!.name);
    const ready = await waitFor('the Node Ready at the new leader\'s address', async () => {
      const n = await providerNode();
      const address = n?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      return isReady(n?.status?.conditions) && address === next.leader.status?.podIP && n;
    }, { timeoutMs: 15_000 });
    expect(ready.metadata?.name).toBe(node);
    console.log(`install-cluster: the agent was connected to the new leader ${backInMs} ms after the leader pod's deletion`);

    // The same container, started once: nothing on the provider noticed.
    const after = (await webPod()).status!.containerStatuses![0]!;
    expect([after.containerID, after.restartCount, after.state?.running?.startedAt]).toEqual([before.containerID, 0, before.state?.running?.startedAt]);
    const inspected = await machine.docker.getContainer(before.containerID!.replace('docker://', '')).inspect();
    expect([inspected.State.Running, inspected.RestartCount]).toEqual([true, 0]);
    // And kubectl exec reaches it through the new leader's kubelet API.
    expect((await kubectl(['exec', '-n', namespace, (await webPod()).metadata!.name!, '--', 'hostname'])).trim()).toBe((await webPod()).metadata!.name);
  }, 240_000);

  test('the in-cluster console signs a namespaced user in and lists the Workload', async () => {
    await kubectl(['apply', '-f', '-'], { input: namespaceEditor(namespace, 'dev') });
    const token = (await kubectl(['create', 'token', 'dev', '-n', namespace, '--duration', '10m'])).trim();
    // The console's Service, reached as an admin reaches it before publishing it: kubectl port-forward.
    const forward = kubectlProcess(['port-forward', '-n', SYSTEM, 'service/lattice-console', ':80']);
    const browser = await launchChromium();
    try {
      const port = await waitFor('kubectl port-forward listening', () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(forward.output.join(''))?.[1]);
      const page = await browser.newPage();
      await signInAndOpen(page, `http://localhost:${port}`, token, namespace);
      await page.getByRole('article', { name: 'web', exact: true }).waitFor({ timeout: 30_000 });
    } finally {
      await browser.close();
      await stopProcess(forward.child);
    }
  }, 120_000);

  test('the kuttl suites pass against this install', async () => {
    // kuttl writes a kubeconfig file where it runs: a directory of its own, with the test directories given absolutely.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lattice-kuttl-'));
    // Made here, as start-providers.sh does for the embedded run: kuttl deletes a namespace it made
    // as soon as its first test case ends, under the feet of the others.
    await kubectl(['create', 'namespace', KUTTL_NAMESPACE]);
    try {
      const suite = parse(await readFile(path.join(repoRoot, 'test/kuttl/kuttl-install.yaml'), 'utf8')) as { testDirs: string[] };
      await writeFile(path.join(dir, 'kuttl-test.yaml'), toYaml({ ...suite, testDirs: suite.testDirs.map((d) => path.join(repoRoot, d)) }));
      const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}`, KUBECONFIG: kubeconfigPath, KUTTL_PROVIDER_DOCKER_HOST: `unix://${machine.dockerSocket}` };
      const kuttl = spawnCaptured(path.join(binDir, 'kubectl-kuttl'), ['test', '--config', 'kuttl-test.yaml'], env, dir);
      const code = await kuttl.done;
      const output = kuttl.output.join('');
      await writeFile(path.join(stateDir, 'logs', 'install-cluster-kuttl.log'), output);
      const results = output.split('\n').filter((line) => /--- (PASS|FAIL): kuttl\/harness\//.test(line)).map((line) => line.trim().replace(/ \(.*\)$/, ''));
      expect([code, results.sort()]).toEqual([
        0,
        ['--- PASS: kuttl/harness/cronworkload', '--- PASS: kuttl/harness/invalid-workload', '--- PASS: kuttl/harness/postgres', '--- PASS: kuttl/harness/workload'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await kubectl(['delete', 'namespace', KUTTL_NAMESPACE, '--timeout=90s']);
    }
  }, 600_000);

  test("the README's uninstall leaves nothing of the install but the CRDs", async () => {
    await kubectl(['delete', 'namespace', namespace, '--timeout=90s']);
    await stopProcess(agent?.child);
    await kubectl(['delete', 'node', node]);
    await kubectl(uninstallArgs(OVERLAY));
    await systemGone();
    expect(await leftovers(OVERLAY)).toEqual(CRDS);
  }, 240_000);
});
