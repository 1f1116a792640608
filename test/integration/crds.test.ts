// The generated CRDs in the real kube-apiserver: the samples apply cleanly and re-apply without a
// write, and bad manifests are refused at `kubectl apply` with a message that names the field and
// says what is allowed, before anything is stored.
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { objectOpenAPI } from '../../crds/src/crd.js';
import { GROUP, VERSION } from '../../crds/src/group.js';
import { KINDS } from '../../crds/src/index.js';
import { samples } from '../../crds/src/outputs.js';
import { badValues, withValue } from '../support/bad-manifests.js';
import { adminKubeConfig, installCrds, kubectl, repoRoot, uniqueName } from '../support/cluster.js';

const namespace = uniqueName('it-crds');

interface KubeObject {
  kind: string;
  metadata: { name: string; resourceVersion: string; generation: number };
  spec?: Record<string, unknown>;
}

beforeAll(async () => {
  // The global setup applied them; again here, as what this suite is about.
  await installCrds();
  await kubectl(['create', 'namespace', namespace]);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
});

/** Server-side applies manifests into the test namespace; returns the objects as stored. */
async function apply(args: string[], input?: string): Promise<KubeObject[]> {
  const out = JSON.parse(await kubectl(['apply', '--server-side', '-n', namespace, '-o', 'json', ...args], { input }));
  return out.kind === 'List' ? out.items : [out];
}

/** The apiserver's answer to a manifest it must refuse. */
async function refusal(manifest: object): Promise<string> {
  try {
    await apply(['-f', '-'], JSON.stringify(manifest));
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`the apiserver accepted ${JSON.stringify(manifest)}`);
}

const versions = (objects: KubeObject[]) =>
  objects.map(({ kind, metadata: { name, resourceVersion, generation } }) => ({ kind, name, resourceVersion, generation }));

describe('the samples', () => {
  const applied: KubeObject[] = [];

  beforeAll(async () => {
    for (const sample of samples()) applied.push(...(await apply(['-f', path.join(repoRoot, sample.path)])));
  });

  test('apply again without any change', async () => {
    const again: KubeObject[] = [];
    for (const sample of samples()) again.push(...(await apply(['-f', path.join(repoRoot, sample.path)])));
    expect(versions(again)).toEqual(versions(applied));
  });

  test('are all listed by `kubectl get lattice`', async () => {
    const listed = (await kubectl(['get', 'lattice', '-n', namespace, '-o', 'name'])).trim().split('\n').sort();
    const expected = applied.map(({ kind, metadata }) => `${kind.toLowerCase()}.lattice.dev/${metadata.name}`).sort();
    expect(listed).toEqual(expected);
  });

  test.each([
    ['wl', ['NAME', 'READY', 'REPLICAS', 'PHASE', 'URL', 'AGE']],
    ['pgi', ['NAME', 'READY', 'VERSION', 'ENDPOINT', 'AGE']],
    ['cwl', ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'LAST RUN', 'NEXT RUN', 'AGE']],
  ])('`kubectl get %s` shows its columns', async (shortName, columns) => {
    const [header = ''] = (await kubectl(['get', shortName, '-n', namespace])).split('\n');
    expect(header.trim().split(/\s{2,}/)).toEqual(columns);
  });

  test('the apiserver fills in the defaults', async () => {
    const redis = applied.find((o) => o.metadata.name === 'redis');
    expect(redis?.spec).toMatchObject({
      replicas: 1,
      suspend: false,
      ports: [{ name: 'redis', protocol: 'TCP', expose: 'tailnet' }],
      healthCheck: { tcp: { port: 'redis' }, periodSeconds: 10, failureThreshold: 3 },
    });
    const backup = applied.find((o) => o.metadata.name === 'nightly-backup');
    expect(backup?.spec).toMatchObject({ suspend: false, template: { resources: { cpu: '250m', memory: '256Mi' } } });
  });
});

const meta = (kind: string, spec: object) => ({ apiVersion: 'lattice.dev/v1alpha1', kind, metadata: { name: '' }, spec });
const workload = (spec: object) => meta('Workload', { image: '127.0.0.1:5001/lattice/busybox:1', ...spec });
const gitWorkload = (source: object, build: object = { strategy: 'node' }) =>
  meta('Workload', { source: { url: 'https://github.com/org/app.git', ...source }, build });
const postgres = (spec: object) => meta('PostgresInstance', { database: 'app', owner: 'app', storage: { size: '1Gi' }, ...spec });
const cron = (spec: object) => meta('CronWorkload', { schedule: '@daily', template: { image: 'busybox' }, ...spec });
const http = { name: 'http', port: 8080 };

// [what is wrong, manifest, what the error must say: the field, and what is allowed]
const badManifests: [string, ReturnType<typeof meta>, string[]][] = [
  ['an unknown field', workload({ replica: 2 }), ['.spec.replica', 'field not declared in schema']],
  ['an unknown field in a port', workload({ ports: [{ ...http, exposed: 'public' }] }), ['exposed', 'field not declared in schema']],
  ['negative replicas', workload({ replicas: -1 }), ['spec.replicas', 'greater than or equal to 0']],
  ['replicas as a word', workload({ replicas: 'two' }), ['.spec.replicas', 'expected numeric']],
  ['port 0', workload({ ports: [{ ...http, port: 0 }] }), ['spec.ports[0].port', 'greater than or equal to 1']],
  ['port 70000', workload({ ports: [{ ...http, port: 70000 }] }), ['spec.ports[0].port', 'less than or equal to 65535']],
  ['a port name with capitals', workload({ ports: [{ ...http, name: 'HTTP' }] }), ['spec.ports[0].name', 'should match']],
  ['protocol UDP', workload({ ports: [{ ...http, protocol: 'UDP' }] }), ['spec.ports[0].protocol', 'supported values: "HTTP", "TCP"']],
  ['expose internet', workload({ ports: [{ ...http, expose: 'internet' }] }), ['spec.ports[0].expose', '"none", "tailnet", "public"']],
  ['two ports named alike', workload({ ports: [http, { ...http, port: 8081 }] }), ['.spec.ports', 'duplicate entries for key [name="http"]']],
  ['two ports on one number', workload({ ports: [http, { ...http, name: 'web' }] }), ['spec.ports', 'each port number must be unique']],
  [
    'image and source',
    { ...gitWorkload({}), spec: { ...gitWorkload({}).spec, image: 'busybox' } },
    ['spec', 'set exactly one of spec.image (an image to run) or spec.source'],
  ],
  ['neither image nor source', meta('Workload', { replicas: 1 }), ['spec', 'set exactly one of spec.image']],
  ['source without build', meta('Workload', { source: { url: 'https://github.com/org/app.git' } }), ['spec.build', 'required with spec.source']],
  ['an unknown build strategy', gitWorkload({}, { strategy: 'go' }), ['spec.build.strategy', '"node", "python", "static", "dockerfile"']],
  ['a Git URL without a scheme', gitWorkload({ url: 'github.com/org/app' }), ['spec.source.url', 'must be an https:// or ssh:// Git URL']],
  ['a contextDir leaving the repository', gitWorkload({ contextDir: 'app/../..' }), ['spec.source.contextDir', 'must stay inside the repository']],
  ['cpu: lots', workload({ resources: { cpu: 'lots' } }), ['spec.resources.cpu', 'must be a positive Kubernetes quantity, such as 250m']],
  ['negative memory', workload({ resources: { memory: '-1Gi' } }), ['spec.resources.memory', 'must be a positive Kubernetes quantity']],
  [
    'a volume size that is not a quantity',
    workload({ volumes: [{ name: 'data', mountPath: '/data', size: 'big' }] }),
    ['spec.volumes[0].size', 'must be a positive Kubernetes quantity'],
  ],
  ['a relative mountPath', workload({ volumes: [{ name: 'data', mountPath: 'data', size: '1Gi' }] }), ['spec.volumes[0].mountPath', 'should match']],
  ['two probes', workload({ healthCheck: { http: { port: 8080 }, tcp: { port: 8080 } } }), ['spec.healthCheck', 'set exactly one of http, tcp or exec']],
  [
    'a health check on a port name that does not exist',
    workload({ ports: [http], healthCheck: { http: { port: 'web' } } }),
    ['spec.healthCheck.http.port', 'must be the name of one of spec.ports'],
  ],
  [
    'an env var with a value and a valueFrom',
    workload({ env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }),
    ['spec.env[0]', 'set value or valueFrom, not both'],
  ],
  ['PostgreSQL 14', postgres({ version: '14' }), ['spec.version', 'supported values: "15"']],
  ['a database name with capitals', postgres({ database: 'App' }), ['spec.database', 'should match']],
  ['no storage', { ...postgres({}), spec: { database: 'app', owner: 'app' } }, ['spec.storage', 'Required value']],
  ['storage: lots', postgres({ storage: { size: 'lots' } }), ['spec.storage.size', 'must be a positive Kubernetes quantity']],
  ['reclaimPolicy Keep', postgres({ reclaimPolicy: 'Keep' }), ['spec.reclaimPolicy', 'supported values: "Delete", "Retain"']],
  ['minute 61', cron({ schedule: '61 * * * *' }), ['spec.schedule', 'minute (the 1st field) must be 0-59']],
  ['hour 24', cron({ schedule: '0 24 * * *' }), ['spec.schedule', 'hour (the 2nd field) must be 0-23']],
  ['month 13', cron({ schedule: '0 0 1 13 *' }), ['spec.schedule', 'month (the 4th field) must be 1-12 or JAN-DEC']],
  ['day of week 8', cron({ schedule: '0 0 * * 8' }), ['spec.schedule', 'day of week (the 5th field) must be 0-7']],
  ['four cron fields', cron({ schedule: '* * * *' }), ['spec.schedule', 'must be five space-separated fields']],
  ['an unknown macro', cron({ schedule: '@every 5m' }), ['spec.schedule', 'one of @hourly, @daily, @weekly, @monthly, @yearly']],
  ['a range backwards', cron({ schedule: '0 0 * * FRI-MON' }), ['spec.schedule', 'a range must run from low to high']],
  ['an unknown time zone', cron({ timeZone: 'Mars/Olympus' }), ['spec.timeZone', 'must be an IANA time zone name']],
  ['concurrencyPolicy Sometimes', cron({ concurrencyPolicy: 'Sometimes' }), ['spec.concurrencyPolicy', '"Allow", "Forbid", "Replace"']],
  ['a run without an image', cron({ template: { command: ['true'] } }), ['spec.template.image', 'Required value']],
  ['a negative history limit', cron({ successfulRunsHistoryLimit: -1 }), ['spec.successfulRunsHistoryLimit', 'greater than or equal to 0']],
];

describe('a bad manifest', () => {
  test.each(badManifests.map(([what, manifest, says], i) => [what, manifest, says, `bad-${i}`] as const))(
    'with %s is refused, naming the field',
    async (_what, manifest, says, name) => {
      const error = await refusal({ ...manifest, metadata: { name } });
      for (const text of says) expect(error).toContain(text);
      const plural = KINDS.find((k) => k.kind === manifest.kind)?.plural ?? '';
      expect(await kubectl(['get', plural, name, '-n', namespace, '--ignore-not-found', '-o', 'name'])).toBe('');
    },
  );
});

describe('bad values made from the schema of each kind', () => {
  const objects = adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  const cases = KINDS.flatMap((kind) => {
    const valid = samples()
      .flatMap((s) => parseAllDocuments(s.text).map((d) => d.toJS() as Record<string, unknown> & { kind: string }))
      .find((o) => o.kind === kind.kind)!;
    const spec = objectOpenAPI(kind).properties!.spec!;
    return [...badValues(spec, ['spec'])].map((bad) => ({ kind, manifest: withValue(valid, bad.path, bad.value), ...bad }));
  });

  test('are at least 200, over every kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => c.kind.kind))).toEqual(new Set(KINDS.map((k) => k.kind)));
  });

  test.each(cases.map((c) => [`${c.kind.kind} ${c.field}`, c.why, c] as const))('%s, %s: refused, naming the field', async (_field, _why, c) => {
    const body = { ...c.manifest, metadata: { name: 'bad-value', namespace } };
    const error = await objects
      .createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: c.kind.plural, body, dryRun: 'All', fieldValidation: 'Strict' })
      .then(
        () => undefined,
        (err: { code?: number; body?: string }) => err,
      );
    // 422 Invalid; 400 for a field the schema does not declare (strict field validation).
    expect([400, 422]).toContain(error?.code);
    expect(error?.body).toContain(c.field);
  });
});

describe('a name the children cannot be named after', () => {
  const volumes = [{ name: 'data', mountPath: '/data', size: '1Gi' }];
  const named = (name: string, manifest: ReturnType<typeof meta>) => ({ ...manifest, metadata: { name } });
  const serviceName = "metadata: Invalid value: a Workload's name must be a DNS label of at most 63 characters (lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, no dots): it names the Workload's Service";
  const statefulSetName = "metadata: Invalid value: a Workload with spec.volumes must have a name of at most 52 characters: its replicas are a StatefulSet's pods";
  const publicUrlName = "metadata: Invalid value: a Workload with a public HTTP port must not have '--' in its name: its URL is https://<name>--<namespace>.<domain>";
  const publicHttp = { name: 'http', port: 8080, expose: 'public' };

  test.each([
    ['a Workload named my.app', named('my.app', workload({})), serviceName],
    ['a Workload with a name of 64 characters', named('w'.repeat(64), workload({})), serviceName],
    ['a Workload with volumes and a name of 53 characters', named('v'.repeat(53), workload({ volumes })), statefulSetName],
    ['a Workload with a public HTTP port named web--acme', named('web--acme', workload({ ports: [publicHttp] })), publicUrlName],
    [
      'a PostgresInstance with a name of 53 characters',
      named('p'.repeat(53), postgres({})),
      "metadata: Invalid value: a PostgresInstance's name must be a DNS label of at most 52 characters",
    ],
    ['a PostgresInstance named app.db', named('app.db', postgres({})), "a PostgresInstance's name must be a DNS label"],
    [
      'a CronWorkload with a name of 51 characters',
      named('c'.repeat(51), cron({})),
      "metadata: Invalid value: a CronWorkload's name must have at most 50 characters: its runs are Jobs named after it",
    ],
  ])('is refused at apply: %s', async (_what, manifest, says) => {
    const error = await refusal(manifest);
    expect(error).toContain(`The ${manifest.kind} "${manifest.metadata.name}" is invalid: `);
    expect(error).toContain(says);
    const plural = KINDS.find((k) => k.kind === manifest.kind)?.plural ?? '';
    expect(await kubectl(['get', plural, manifest.metadata.name, '-n', namespace, '--ignore-not-found', '-o', 'name'])).toBe('');
  });

  test.each([
    ['a Workload', named('w'.repeat(63), workload({}))],
    ['a Workload with volumes', named('v'.repeat(52), workload({ volumes }))],
    ["a Workload with '--' in its name and no public HTTP port", named('worker--2', workload({ ports: [{ name: 'db', port: 5432, protocol: 'TCP', expose: 'public' }] }))],
    ['a PostgresInstance', named('p'.repeat(52), postgres({}))],
    ['a CronWorkload (dots allowed: its Jobs are named after it, not its Services)', named(`${'c.'.repeat(24)}cc`, cron({}))],
  ])('of the longest length allowed is accepted: %s', async (_what, manifest) => {
    const [stored] = await apply(['-f', '-'], JSON.stringify(manifest));
    expect(stored?.metadata.name).toBe(manifest.metadata.name);
  });

  test('is refused when volumes are added to a Workload stored without them; other changes are not', async () => {
    const manifest = named('s'.repeat(60), workload({}));
    await apply(['-f', '-'], JSON.stringify(manifest));
    expect(await refusal({ ...manifest, spec: { ...manifest.spec, volumes } })).toContain(statefulSetName);
    const [scaled] = await apply(['-f', '-'], JSON.stringify({ ...manifest, spec: { ...manifest.spec, replicas: 2 } }));
    expect(scaled?.spec).toMatchObject({ replicas: 2 });
  });
});

describe('a stored PostgresInstance', () => {
  const name = 'transitions';
  const manifest = (spec: object) => ({ ...postgres({ storage: { size: '5Gi' }, ...spec }), metadata: { name } });

  beforeAll(async () => {
    await apply(['-f', '-'], JSON.stringify(manifest({})));
  });

  test('can grow its storage', async () => {
    const [grown] = await apply(['-f', '-'], JSON.stringify(manifest({ storage: { size: '6Gi' } })));
    expect(grown?.spec).toMatchObject({ storage: { size: '6Gi' } });
  });

  test('cannot shrink its storage', async () => {
    expect(await refusal(manifest({ storage: { size: '1Gi' } }))).toContain(
      'spec.storage.size: Invalid value: "1Gi": spec.storage.size cannot shrink (from 6Gi to 1Gi); it can only grow',
    );
  });

  test('cannot be renamed', async () => {
    expect(await refusal(manifest({ storage: { size: '6Gi' }, database: 'other' }))).toContain(
      'spec.database: Invalid value: "other": spec.database cannot be changed after creation',
    );
  });
});

test('`kubectl explain workload.spec.ports` prints the field descriptions', async () => {
  const explained = (await kubectl(['explain', 'workload.spec.ports'])).replace(/\s+/g, ' ');
  expect(explained).toContain('Ports the container listens on, merged by name.');
  expect(explained).toContain('port <integer> -required- Port the container listens on.');
  expect(explained).toContain('expose <string> enum: none, tailnet, public Who can reach it');
});
