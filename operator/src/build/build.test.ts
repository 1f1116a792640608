import type * as k8s from '@kubernetes/client-node';
import { WorkloadSpec, type Workload } from '@lattice/crds';
import { BUILD_ENV, BUILDER_IMAGE, buildRequestFromEnv } from '@lattice/protocol';
import { expiredBuilds } from './builds.js';
import { credentialsProblem, secretWorkloads } from './credentials.js';
import { BUILD_OF_LABEL, REBUILD_ANNOTATION, buildHash, buildJob, type BuildOptions } from './job.js';
import { awaitingFirstImage, blockedBuild, buildState, withBuild } from './status.js';

const options: BuildOptions = { buildRegistry: '127.0.0.1:5001', buildTimeoutSeconds: 600, buildCpu: '1', buildMemory: '1Gi', providerLossTimeoutSeconds: 60 };

function workload(spec: Record<string, unknown> = {}, annotations?: Record<string, string>): Workload {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1', annotations },
    spec: WorkloadSpec.parse({
      source: { url: 'https://git.example/web.git', ref: 'main' },
      build: { strategy: 'node' },
      ports: [{ name: 'http', port: 3000 }],
      ...spec,
    }),
  } as Workload;
}

describe('the build Job', () => {
  test('runs the builder once, within the time limit, owned by the Workload, on a provider', () => {
    const job = buildJob(workload({ placement: { providerSelector: { region: 'eu' } } }), options);
    expect(job.metadata!.name).toMatch(/^web-build-[0-9a-f]{10}$/);
    expect(job.metadata!.labels![BUILD_OF_LABEL]).toBe('web');
    expect(job.metadata!.labels!['lattice.dev/workload']).toBeUndefined(); // never selected as a replica
    expect(job.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Workload', name: 'web', uid: 'u-1', controller: true });
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 });
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.nodeSelector).toEqual({ 'lattice.dev/provider': 'true' });
    expect(pod.tolerations?.[0]).toMatchObject({ key: 'lattice.dev/provider', effect: 'NoSchedule' });
    expect(JSON.stringify(pod.affinity)).toContain('region');
    const container = pod.containers[0]!;
    expect(container.image).toBe(BUILDER_IMAGE);
    expect(container.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } });
  });

  test('its env is the build request the agent reads', () => {
    const job = buildJob(workload({ source: { url: 'https://git.example/web.git', ref: 'v2', contextDir: 'app' }, build: { strategy: 'node', buildCommand: 'make' } }), options);
    const env = job.spec!.template.spec!.containers[0]!.env!.map((e) => ({ name: e.name, value: e.value! }));
    expect(buildRequestFromEnv(env)).toMatchObject({
      url: 'https://git.example/web.git',
      ref: 'v2',
      contextDir: 'app',
      strategy: 'node',
      buildCommand: 'make',
      port: 3000,
      repository: '127.0.0.1:5001/builds/shop/web',
      baseImages: '127.0.0.1:5001/lattice',
    });
  });

  test('the credentials Secret is a volume of the pod, mounted in no container', () => {
    const job = buildJob(workload({ source: { url: 'https://git.example/web.git', credentialsSecretRef: { name: 'git' } } }), options);
    const pod = job.spec!.template.spec!;
    expect(pod.volumes).toEqual([{ name: 'git-credentials', secret: { secretName: 'git' } }]);
    expect(pod.containers[0]!.volumeMounts).toBeUndefined();
  });

  test('the same inputs name the same build; a change of ref, spec or a rebuild request a new one', () => {
    const base = buildHash(workload(), options);
    expect(buildHash(workload(), options)).toBe(base);
    expect(buildHash(workload({ replicas: 3 }), options)).toBe(base);
    expect(buildHash(workload({ source: { url: 'https://git.example/web.git', ref: 'dev' } }), options)).not.toBe(base);
    expect(buildHash(workload({ build: { strategy: 'node', startCommand: 'node a.js' } }), options)).not.toBe(base);
    const asked = buildHash(workload({}, { [REBUILD_ANNOTATION]: '1' }), options);
    expect(asked).not.toBe(base);
    expect(buildHash(workload({}, { [REBUILD_ANNOTATION]: '2' }), options)).not.toBe(asked);
  });

  test('a long Workload name still makes a valid Job name', () => {
    const long = workload();
    long.metadata.name = 'a'.repeat(63);
    expect(buildJob(long, options).metadata!.name!.length).toBeLessThanOrEqual(63);
  });
});

function job(state: 'running' | 'complete' | 'failed', extra: Partial<k8s.V1JobCondition> = {}): k8s.V1Job {
  const conditions: k8s.V1JobCondition[] =
    state === 'running' ? [] : [{ type: state === 'complete' ? 'Complete' : 'Failed', status: 'True', lastTransitionTime: new Date('2026-01-01T00:01:00Z'), ...extra }];
  return {
    metadata: { name: 'web-build-abc', namespace: 'shop', annotations: { 'lattice.dev/source': 'https://git.example/web.git#main' } },
    spec: { template: { spec: { containers: [{ name: 'build', env: [{ name: BUILD_ENV.repository, value: '127.0.0.1:5001/builds/shop/web' }] }] } } },
    status: { startTime: new Date('2026-01-01T00:00:00Z'), conditions },
  };
}

const podWith = (message: object): k8s.V1Pod => ({
  status: { containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: JSON.stringify(message) } } }] },
});

describe('the build state', () => {
  test('running: Building, with the command that follows its log', () => {
    const state = buildState(job('running'), undefined, undefined);
    expect(state.phase).toBe('Building');
    expect(state.condition).toMatchObject({ type: 'Built', status: 'False', reason: 'Building' });
    expect(state.condition.message).toContain('kubectl logs -n shop job/web-build-abc -f');
  });

  test('no provider has room for it: BuildPending with the scheduler verdict', () => {
    const pod: k8s.V1Pod = { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] } };
    const state = buildState(job('running'), pod, undefined);
    expect(state.condition).toMatchObject({ status: 'False', reason: 'BuildPending' });
    expect(state.condition.message).toContain('3 Insufficient cpu');
  });

  test('complete: the image by digest, the commit and the duration', () => {
    const image = `127.0.0.1:5001/builds/shop/web@sha256:${'0f'.repeat(32)}`;
    const state = buildState(job('complete'), podWith({ commit: 'c0ffee1234567890', image, durationSeconds: 12 }), undefined);
    expect(state).toMatchObject({ phase: 'Succeeded', image, condition: { status: 'True', reason: 'BuildSucceeded' } });
    expect(state.status).toMatchObject({ job: 'web-build-abc', commit: 'c0ffee1234567890', image, durationSeconds: 12, startedAt: '2026-01-01T00:00:00Z' });
  });

  test.each([
    ["another tenant's image", `127.0.0.1:5001/builds/other/web@sha256:${'0f'.repeat(32)}`],
    ['a tag the provider could move', '127.0.0.1:5001/builds/shop/web:latest'],
    ['an image of elsewhere', `evil.example/builds/shop/web@sha256:${'0f'.repeat(32)}`],
    ['a repository that only starts like its own', `127.0.0.1:5001/builds/shop/web-x@sha256:${'0f'.repeat(32)}`],
  ])("complete, with %s reported: Failed, and nothing is run", (_what, image) => {
    const state = buildState(job('complete'), podWith({ commit: 'c0ffee', image, durationSeconds: 1 }), undefined);
    expect(state.phase).toBe('Failed');
    expect(state.image).toBeUndefined();
    expect(state.condition.message).toContain(`reported the image ${image}, which is not its own repository's by digest`);
  });

  test('complete, its pod gone: the result the status kept for this Job', () => {
    const kept = { job: 'web-build-abc', commit: 'c0ffee', image: 'r@sha256:1', durationSeconds: 3 };
    expect(buildState(job('complete'), undefined, kept)).toMatchObject({ phase: 'Succeeded', image: 'r@sha256:1' });
    expect(buildState(job('complete'), undefined, { ...kept, job: 'other' }).phase).toBe('Failed');
  });

  test("failed: BuildFailed with the agent's error and log tail; the time limit says so", () => {
    const state = buildState(job('failed'), podWith({ commit: 'c0ffee', durationSeconds: 4, error: 'npm ERR! missing script\n--- last lines' }), undefined);
    expect(state.condition).toMatchObject({ status: 'False', reason: 'BuildFailed', warning: true });
    expect(state.condition.message).toContain('npm ERR! missing script');
    expect(buildState(job('failed', { reason: 'DeadlineExceeded' }), undefined, undefined).condition.message).toContain('time limit');
  });

  test('before a first image: Building or Failed, nothing runs', () => {
    const building = awaitingFirstImage(buildState(job('running'), undefined, undefined));
    expect(building.status.phase).toBe('Building');
    expect(building.conditions.map((c) => `${c.type} ${c.reason}`)).toEqual(['Ready Building', 'Built Building']);
    expect(awaitingFirstImage(buildState(job('failed'), undefined, undefined)).status.phase).toBe('Failed');
  });

  test('with replicas running: Building while a build runs, else the replicas say', () => {
    const replicas = { status: { phase: 'Running' as const }, conditions: [] };
    expect(withBuild(replicas, buildState(job('running'), undefined, undefined)).status.phase).toBe('Building');
    expect(withBuild(replicas, buildState(job('failed'), undefined, undefined)).status.phase).toBe('Running');
    const placing = (reason: string) => ({
      status: { phase: 'Pending' as const },
      conditions: [{ type: 'Scheduled', status: 'False' as const, reason, message: '' }],
    });
    const built = buildState(job('complete'), podWith({ commit: 'c', image: 'r@sha256:1', durationSeconds: 1 }), undefined);
    expect(withBuild(placing('Scheduling'), built).status.phase).toBe('Deploying');
    expect(withBuild(placing('InsufficientCapacity'), built).status.phase).toBe('Pending');
  });
});

test('the newest builds are kept, the current one always', () => {
  const at = (name: string, minute: number): k8s.V1Job => ({ metadata: { name, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, minute)) } });
  const jobs = [at('a', 1), at('b', 2), at('c', 3), at('d', 4), at('e', 5)];
  expect(expiredBuilds(jobs, 'e').map((j) => j.metadata!.name)).toEqual(['b', 'a']);
  expect(expiredBuilds(jobs, 'a').map((j) => j.metadata!.name)).toEqual(['c', 'b']);
});

describe('the credentials Secret, checked before the build starts', () => {
  const named = (url: string) => workload({ source: { url, credentialsSecretRef: { name: 'git' } } });
  const secret = (data: Record<string, string>): k8s.V1Secret => ({ metadata: { name: 'git', namespace: 'shop' }, data });

  test('missing: the Secret is named; present with the key the URL needs: no problem', () => {
    expect(credentialsProblem(named('https://git.example/web.git'), undefined)).toMatch(/^Secret git \(spec.source.credentialsSecretRef\) does not exist in namespace shop/);
    expect(credentialsProblem(named('https://git.example/web.git'), secret({ username: 'dXNlcg==', password: 'dG9r' }))).toBeUndefined();
    expect(credentialsProblem(workload(), undefined)).toBeUndefined();
  });

  test('without the key its URL needs: password for https, ssh-privatekey for ssh', () => {
    expect(credentialsProblem(named('https://git.example/web.git'), secret({ username: 'dXNlcg==' }))).toContain('has no key "password"');
    expect(credentialsProblem(named('git@git.example:web.git'), secret({ password: 'dG9r' }))).toContain('has no key "ssh-privatekey"');
    expect(credentialsProblem(named('ssh://git@git.example/web.git'), secret({ 'ssh-privatekey': 'a2V5' }))).toBeUndefined();
  });

  test("an ssh Secret's known_hosts, when there, must hold a host key line", () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const ssh = named('ssh://git@git.example:2222/web.git');
    const pinned = { 'ssh-privatekey': 'a2V5', known_hosts: b64('# pinned\n[git.example]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv3\n') };
    expect(credentialsProblem(ssh, secret(pinned))).toBeUndefined();
    expect(credentialsProblem(ssh, secret({ 'ssh-privatekey': 'a2V5', known_hosts: b64('# nothing yet\n') }))).toContain('has a key "known_hosts" with no host key line');
    expect(credentialsProblem(ssh, secret({ 'ssh-privatekey': 'a2V5', known_hosts: b64('git.example') }))).toContain('no host key line');
  });

  test('fails the build at once, and nothing runs before a first image', () => {
    const state = awaitingFirstImage(blockedBuild('Secret git does not exist'));
    expect(state.status.phase).toBe('Failed');
    expect(state.conditions.map((c) => `${c.type} ${c.status} ${c.reason}`)).toEqual(['Ready False CredentialsMissing', 'Built False CredentialsMissing']);
    expect(state.conditions[1]!.message).toBe('The build cannot start: Secret git does not exist.');
  });

  test('a Secret wakes the Workloads that name it', () => {
    const stored = [named('https://a/b.git'), workload()].map((wl, i) => ({ metadata: { name: `w${i}`, namespace: 'shop' }, spec: wl.spec }));
    expect(secretWorkloads(secret({}), stored)).toEqual(['shop/w0']);
  });
});
