// The GitOps install (config/) on the real apiserver, as a platform engineer uses it with kubectl:
//   - config/default and config/dev render; config/default's `images:` names every image once,
//     and nothing in config/default points at this machine's registry;
//   - `kubectl apply --server-side -k config/default` installs it, and applying again changes nothing;
//   - the operator's RBAC is enough in practice: the real operator (out of the cluster, acting as the
//     lattice-operator ServiceAccount, not the admin) serves a real provider agent and meters it,
//     runs Workloads (with and without a volume), a PostgresInstance and a CronWorkload on it and
//     removes them, with nothing forbidden; and it is refused what its code never does;
//   - the console's ServiceAccount may do nothing;
//   - the uninstall the README gives removes all of it but the CRDs (and so the users' objects).
// It installs into lattice-system, the namespace `make up`'s operator uses too: it refuses to run
// while a lattice-system it did not make exists, and removes everything it made.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { adminKubeConfig, kubectl, repoRoot, uniqueName, waitFor } from '../support/cluster.js';
import { CONSOLE_SA, CRDS, OPERATOR_SA, SYSTEM, expectNoInstall, leftovers, systemGone, uninstallArgs } from '../support/install.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, cleanupNodes, joinedAgent, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';
import { condition, workloadReader } from '../support/workloads.js';

const LOCAL_REGISTRY = '127.0.0.1:5001';
const UNINSTALL = uninstallArgs('config/default');

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const run = uniqueName('it-install');
const namespace = run;
const RUN_LABEL = 'provider.lattice.dev/install-test';
const { waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 120_000, intervalMs: 500 });

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number };
  spec?: { template?: { spec?: k8s.V1PodSpec } } & Record<string, unknown>;
}

interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string;
}

const render = async (dir: string): Promise<KubeObject[]> =>
  parseAllDocuments(await kubectl(['kustomize', path.isAbsolute(dir) ? dir : path.join(repoRoot, dir)])).map((d) => d.toJS() as KubeObject);

const containersOf = (objects: KubeObject[]) => objects.flatMap((o) => (o.kind === 'Deployment' ? (o.spec!.template!.spec!.containers ?? []) : []));

const imagesOf = (objects: KubeObject[]) => containersOf(objects).map((c) => c.image!);

async function imageEntries(dir: string): Promise<ImageEntry[]> {
  return (parse(await readFile(path.join(repoRoot, dir, 'kustomization.yaml'), 'utf8')) as { images: ImageEntry[] }).images;
}

/** A program's version: its package.json's (lattice/operator -> operator/package.json). */
async function versionOf(image: string): Promise<string> {
  const program = image.split('/').pop()!;
  return (JSON.parse(await readFile(path.join(repoRoot, program, 'package.json'), 'utf8')) as { version: string }).version;
}

/** `kubectl auth can-i` as a ServiceAccount: true for "yes", false for "no". */
async function canI(user: string, args: string[]): Promise<boolean> {
  const out = await kubectl(['auth', 'can-i', '--as', user, ...args]).catch((err: { stdout?: string }) => err.stdout ?? '');
  return out.trim() === 'yes';
}

/** What `kubectl apply --server-side` of config/default returns, as stored. */
async function install(): Promise<KubeObject[]> {
  const out = JSON.parse(await kubectl(['apply', '--server-side', '-k', path.join(repoRoot, 'config/default'), '-o', 'json'])) as { items: KubeObject[] };
  return out.items;
}

/**
 * Each object's version of what was applied: its generation where it has one (a status written by
 * a controller meanwhile does not count), else its resourceVersion.
 */
const versions = (objects: KubeObject[]) =>
  Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.generation ?? o.metadata.resourceVersion]));

beforeAll(expectNoInstall, 150_000);

afterAll(async () => {
  // Whatever a failed test left (the CRDs stay: the other suites need them).
  await kubectl([...UNINSTALL, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']).catch(() => undefined);
}, 120_000);

describe('the manifests', () => {
  test('config/default names each image once, where it is published, at its package version, and nothing on this machine', async () => {
    const objects = await render('config/default');
    const entries = await imageEntries('config/default');
    // The parts name each image by its repository only; config/default's `images:` says the rest.
    const parts = [...(await render('config/operator')), ...(await render('config/console-server'))];
    expect(imagesOf(parts).sort()).toEqual(entries.map((e) => e.name).sort());
    expect(imagesOf(objects).sort()).toEqual(entries.map((e) => `${e.newName}:${e.newTag}`).sort());
    for (const entry of entries) expect(entry.newTag).toBe(await versionOf(entry.name));
    expect(JSON.stringify(objects)).not.toContain('127.0.0.1');
  });

  test('config/dev is config/default with the images of the local registry, pulled on each start', async () => {
    const dev = await render('config/dev');
    const entries = await imageEntries('config/default');
    expect(imagesOf(dev).sort()).toEqual(
      await Promise.all(entries.map(async (e) => `${LOCAL_REGISTRY}/${e.name}:${await versionOf(e.name)}`)).then((l) => l.sort()),
    );
    expect(containersOf(dev).map((c) => c.imagePullPolicy)).toEqual(containersOf(dev).map(() => 'Always'));
    const names = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names(dev)).toEqual(names(await render('config/default')));
  });

  test('the nodeport component makes the gateway and the ingress NodePort Services', async () => {
    const overlay = await mkdtemp(path.join(os.tmpdir(), 'lattice-nodeport-'));
    try {
      // A user's overlay, as the component's comment says (kustomize takes relative paths only).
      const from = (dir: string) => path.relative(overlay, path.join(repoRoot, dir));
      await writeFile(path.join(overlay, 'kustomization.yaml'), `resources: [${from('config/default')}]\ncomponents: [${from('config/components/nodeport')}]\n`);
      const types = Object.fromEntries(
        (await render(overlay)).filter((o) => o.kind === 'Service').map((o) => [o.metadata.name, (o.spec as { type: string }).type]),
      );
      expect(types).toEqual({ 'lattice-gateway': 'NodePort', 'lattice-ingress': 'NodePort', 'lattice-operator-metrics': 'ClusterIP', 'lattice-console': 'ClusterIP' });
    } finally {
      await rm(overlay, { recursive: true, force: true });
    }
  });
});

describe('installed with kubectl apply --server-side -k config/default', () => {
  let applied: KubeObject[];

  beforeAll(async () => {
    applied = await install();
  }, 60_000);

  test('applying again changes nothing', async () => {
    await kubectl(['diff', '--server-side', '-k', path.join(repoRoot, 'config/default')]).catch((err: { stdout?: string }) => {
      throw new Error(`kubectl diff found changes:\n${err.stdout}`);
    });
    expect(versions(await install())).toEqual(versions(applied));
  });

  test('its pods are admitted under the restricted Pod Security Standard of lattice-system', async () => {
    // No kubelet runs them here: their creation is what is checked (a refused pod is never created).
    for (const [name, replicas] of [['lattice-operator', 2], ['lattice-console', 1]] as const) {
      await waitFor(`${replicas} pod(s) of ${name}`, async () => {
        const pods = await core.listNamespacedPod({ namespace: SYSTEM, labelSelector: `app.kubernetes.io/name=${name}` });
        return pods.items.length === replicas;
      });
    }
  });

  describe('the operator, acting as its ServiceAccount', () => {
    let operator: OperatorProcess;
    let workdir: string;
    const agent: AgentProcess = { name: `${run}-provider`, stateDir: '', output: [] };
    let grpcPort: number;

    beforeAll(async () => {
      workdir = await mkdtemp(path.join(os.tmpdir(), 'lattice-install-'));
      // The admin's kubeconfig with the ServiceAccount's token instead of the admin's credentials.
      const token = (await kubectl(['create', 'token', 'lattice-operator', '-n', SYSTEM, '--duration', '1h'])).trim();
      const cluster = kc.getCurrentCluster()!;
      const kubeconfig = path.join(workdir, 'kubeconfig');
      await writeFile(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'cluster', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }],
          users: [{ name: 'lattice-operator', user: { token } }],
          contexts: [{ name: 'operator', context: { cluster: 'cluster', user: 'lattice-operator' } }],
          'current-context': 'operator',
        }),
        { mode: 0o600 },
      );
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      grpcPort = await freePort();
      operator = OperatorProcess.start({
        identity: run,
        kubeconfig,
        namespace: SYSTEM,
        // Its own Workloads only (its RBAC is cluster-wide all the same): another suite's are theirs.
        watchNamespace: namespace,
        grpcPort,
        kubeletPort: await freePort(),
        extra: ['--leader-election-lease', run, '--metering-interval-seconds', '1', '--postgres-provider-selector', `${RUN_LABEL}=${run}`],
      });
      await operator.gatewayListening(90_000);
    }, 120_000);

    afterAll(async () => {
      await stopAgent(agent);
      await operator?.stop();
      await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      await core.deleteNode({ name: agent.name }).catch(() => undefined);
      await cleanupNodes([agent.name], agent.stateDir ? [agent.stateDir] : []);
      if (workdir) await rm(workdir, { recursive: true, force: true });
    }, 120_000);

    test('a provider joins: its Node is Ready, its Lease renewed, its usage ledger written', async () => {
      const token = await createJoinToken(SYSTEM);
      Object.assign(agent, await joinedAgent(agent.name, `127.0.0.1:${grpcPort}`, token, { cpu: '1', memory: '1Gi', maxPods: 10, labels: { [RUN_LABEL]: run } }));
      runAgent(agent);
      await waitFor(`node ${agent.name} Ready`, async () => {
        const node = await core.readNode({ name: agent.name });
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      }, { timeoutMs: 60_000 });
      const lease = await waitFor('its Lease', () => kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: agent.name, namespace: 'kube-node-lease' }));
      expect(lease.spec?.holderIdentity).toBe(agent.name);
      const ledger = await waitFor('its usage ConfigMap', () => core.readNamespacedConfigMap({ name: `lattice-usage-${agent.name}`, namespace: SYSTEM }), { timeoutMs: 30_000 });
      expect(Object.keys(ledger.data ?? {})).toEqual(['usage.json']);
    }, 120_000);

    test('a Workload reconciles: its Deployment and Service, its replica Ready on the provider, its logs', async () => {
      const manifest = {
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'Workload',
        metadata: { name: 'web', namespace },
        spec: {
          image: BUSYBOX,
          command: ['sh', '-c', "trap 'exit 0' TERM; echo serving; mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www & wait"],
          ports: [{ name: 'http', port: 8080 }],
          resources: { cpu: '50m', memory: '32Mi' },
          placement: { providerSelector: { [RUN_LABEL]: run } },
        },
      };
      await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
      const wl = await waitForStatus('web', 'Ready with its replica', (w) => condition(w, 'Ready')?.status === 'True' && w.status?.readyReplicas === 1);
      expect(wl.status?.nodes).toEqual([agent.name]);
      await apps.readNamespacedDeployment({ name: 'web', namespace });
      await core.readNamespacedService({ name: 'web', namespace });
      // Logs go apiserver -> the gateway's kubelet API (which asks the apiserver who may) -> agent.
      expect(await kubectl(['logs', '-n', namespace, 'deployment/web'])).toContain('serving');
    }, 150_000);

    test('a Workload with a volume: its StatefulSet, a lattice-local PersistentVolume on the provider', async () => {
      const manifest = {
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'Workload',
        metadata: { name: 'data', namespace },
        spec: {
          image: BUSYBOX,
          command: ['sh', '-c', "trap 'exit 0' TERM; echo kept > /data/file; sleep 3600 & wait"],
          volumes: [{ name: 'data', mountPath: '/data', size: '16Mi' }],
          resources: { cpu: '50m', memory: '32Mi' },
          placement: { providerSelector: { [RUN_LABEL]: run } },
        },
      };
      await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
      await waitForStatus('data', 'Ready with its replica', (w) => condition(w, 'Ready')?.status === 'True' && w.status?.readyReplicas === 1);
      await apps.readNamespacedStatefulSet({ name: 'data', namespace });
      const volumes = (await core.listPersistentVolume()).items.filter((pv) => pv.spec?.claimRef?.namespace === namespace);
      expect(volumes.map((pv) => [pv.spec?.storageClassName, pv.status?.phase])).toEqual([['lattice-local', 'Bound']]);
    }, 150_000);

    test('a PostgresInstance: its server Ready (settings checked by an exec in its pod), its connection Secret', async () => {
      const manifest = {
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'PostgresInstance',
        metadata: { name: 'db', namespace },
        spec: { version: '15', database: 'app', owner: 'app', storage: { size: '1Gi' }, resources: { cpu: '250m', memory: '128Mi' } },
      };
      await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
      await waitFor('PostgresInstance db Ready', async () => {
        const pg = (await custom.getNamespacedCustomObject({ group: 'lattice.dev', version: 'v1alpha1', plural: 'postgresinstances', namespace, name: 'db' })) as {
          status?: { conditions?: { type: string; status: string }[] };
        };
        if (pg.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return true;
        throw new Error(JSON.stringify(pg.status));
      }, { timeoutMs: 120_000 });
      const secret = await core.readNamespacedSecret({ name: 'db-connection', namespace });
      expect(Object.keys(secret.data ?? {})).toContain('password');
    }, 150_000);

    test('a CronWorkload run by hand starts its Job and is marked handled', async () => {
      const manifest = {
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'CronWorkload',
        metadata: { name: 'nightly', namespace, annotations: { 'lattice.dev/run-now': 'install-test' } },
        spec: { schedule: '0 0 1 1 *', template: { image: BUSYBOX, command: ['true'] } },
      };
      await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
      await waitFor('the run-now annotation handled', async () => {
        const cw = (await custom.getNamespacedCustomObject({ group: 'lattice.dev', version: 'v1alpha1', plural: 'cronworkloads', namespace, name: 'nightly' })) as KubeObject & {
          metadata: { annotations?: Record<string, string> };
        };
        return cw.metadata.annotations?.['lattice.dev/run-now-handled'] === 'install-test';
      });
      expect((await batch.listNamespacedJob({ namespace })).items).toHaveLength(1);
    }, 60_000);

    test("deleting them: their pods go (the gateway finishes that as the pods' kubelet), and their volumes", async () => {
      await kubectl(['delete', 'workloads,postgresinstances,cronworkloads', '--all', '-n', namespace]);
      await waitFor(
        'their pods gone',
        async () => {
          const left = (await core.listNamespacedPod({ namespace })).items;
          if (!left.length) return true;
          const pods = left.map((p) => `${p.metadata?.name} ${p.status?.phase}${p.metadata?.deletionTimestamp ? ' terminating' : ''}`).join(', ');
          throw new Error(`${pods}; the agent said last:\n${agent.output.join('').split('\n').slice(-15).join('\n')}`);
        },
        { timeoutMs: 120_000 },
      );
      // Released: the provider deletes the data, then the gateway the PersistentVolume.
      await waitFor('their PersistentVolumes gone', async () => !(await core.listPersistentVolume()).items.some((pv) => pv.spec?.claimRef?.namespace === namespace), {
        timeoutMs: 60_000,
      });
    }, 150_000);

    test('nothing it did was forbidden', () => {
      // A refused websocket (the PostgresInstance controller's exec) says only "403".
      expect(operator.output.filter((line) => /forbidden|\b403\b/i.test(line))).toEqual([]);
      expect(operator.running).toBe(true);
    });

    test('it is refused what its code never does', async () => {
      const never: string[][] = [
        ['*', '*'],
        ['create', 'namespaces'],
        ['create', 'clusterrolebindings'],
        ['impersonate', 'users'],
        ['delete', 'customresourcedefinitions'],
        ['list', 'nodes'],
        ['update', 'nodes'],
        ['create', 'pods', '-n', namespace],
        ['update', 'workloads.lattice.dev', '-n', namespace],
        ['delete', 'secrets', '-n', SYSTEM],
        ['get', 'configmaps', '-n', namespace],
        ['update', 'leases.coordination.k8s.io', '-n', 'default'],
        ['create', 'cronjobs.batch', '-n', namespace],
      ];
      const allowed = [];
      for (const args of never) if (await canI(OPERATOR_SA, args)) allowed.push(args.join(' '));
      expect(allowed).toEqual([]);
    });
  });

  test("the console's ServiceAccount may do nothing, and its pod gets no token", async () => {
    const checks = [['create', 'tokenreviews.authentication.k8s.io'], ['list', 'pods', '-A'], ['get', 'secrets', '-n', SYSTEM], ['list', 'workloads.lattice.dev', '-A']];
    for (const args of checks) expect([args.join(' '), await canI(CONSOLE_SA, args)]).toEqual([args.join(' '), false]);
    const deployment = await apps.readNamespacedDeployment({ name: 'lattice-console', namespace: SYSTEM });
    expect(deployment.spec?.template.spec?.automountServiceAccountToken).toBe(false);
  });
});

describe('uninstalled as the README says', () => {
  const kept = `${run}-kept`;

  afterAll(async () => {
    await kubectl(['delete', 'namespace', kept, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  });

  test('everything of it is gone but the CRDs, and so the users’ objects', async () => {
    const workload = { apiVersion: 'lattice.dev/v1alpha1', kind: 'Workload', metadata: { name: 'kept', namespace: kept }, spec: { image: BUSYBOX } };
    await core.createNamespace({ body: { metadata: { name: kept } } });
    await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(workload) });
    await kubectl(UNINSTALL);
    await systemGone();
    expect(await leftovers('config/default')).toEqual(CRDS);
    expect(await kubectl(['get', 'workload', 'kept', '-n', kept, '-o', 'name'])).toBe('workload.lattice.dev/kept\n');
  }, 180_000);
});
