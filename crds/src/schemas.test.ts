// The zod schemas accept every sample and refuse bad input at the field a user would look at,
// with the same message the apiserver gives.
import { parseAllDocuments } from 'yaml';
import { CronWorkload } from './cron-workload.js';
import { samples } from './outputs.js';
import { PostgresInstance } from './postgres-instance.js';
import { Workload, WorkloadSpec } from './workload.js';

const schemas = { Workload, PostgresInstance, CronWorkload };

const manifests = samples().flatMap(({ path, text }) =>
  parseAllDocuments(text).map((doc) => ({ path, object: doc.toJS() as { kind: keyof typeof schemas } })),
);

test.each(manifests)('$path is a valid $object.kind', ({ object }) => {
  const result = schemas[object.kind].safeParse(object);
  expect(result.error?.issues ?? []).toEqual([]);
});

test('defaults are filled in as the apiserver fills them in', () => {
  expect(WorkloadSpec.parse({ image: 'busybox', ports: [{ name: 'http', port: 80 }] })).toEqual({
    image: 'busybox',
    replicas: 1,
    ports: [{ name: 'http', port: 80, protocol: 'HTTP', expose: 'none' }],
    resources: { cpu: '250m', memory: '256Mi' },
    suspend: false,
  });
});

const image = { image: 'busybox' };
const source = { source: { url: 'https://github.com/org/app.git' }, build: { strategy: 'node' } };

// [what is wrong, spec, path of the issue, part of its message]
const badSpecs: [string, unknown, string, string][] = [
  ['no image or source', { replicas: 1 }, '', 'set exactly one of spec.image'],
  ['image and source', { ...image, ...source }, '', 'set exactly one of spec.image'],
  ['source without build', { source: source.source }, 'build', 'spec.build is required with spec.source'],
  ['build without source', { ...image, build: { strategy: 'node' } }, 'build', 'only allowed with it'],
  ['an unknown field', { ...image, replica: 2 }, '', 'replica'],
  ['negative replicas', { ...image, replicas: -1 }, 'replicas', '>=0'],
  ['a port out of range', { ...image, ports: [{ name: 'http', port: 70000 }] }, 'ports.0.port', '<=65535'],
  ['a CPU quantity that is not one', { ...image, resources: { cpu: 'lots' } }, 'resources.cpu', 'positive Kubernetes quantity'],
  ['zero memory', { ...image, resources: { memory: '0' } }, 'resources.memory', 'positive Kubernetes quantity'],
  [
    'two ports with one name',
    { ...image, ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] },
    'ports',
    'each name must be unique',
  ],
  [
    'two ports with one number',
    { ...image, ports: [{ name: 'http', port: 80 }, { name: 'web', port: 80 }] },
    'ports',
    'each port number must be unique',
  ],
  [
    'a health check on an unknown port name',
    { ...image, ports: [{ name: 'http', port: 80 }], healthCheck: { http: { port: 'web' } } },
    'healthCheck.http.port',
    'must be the name of one of spec.ports',
  ],
  ['two probes', { ...image, healthCheck: { http: { port: 80 }, tcp: { port: 80 } } }, 'healthCheck', 'exactly one of http, tcp or exec'],
  ['an env var with value and valueFrom', { ...image, env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, 'env.0', 'not both'],
  ['a contextDir leaving the repository', { ...source, source: { ...source.source, contextDir: 'app/../..' } }, 'source.contextDir', 'inside the repository'],
  ['a git URL without a scheme', { ...source, source: { url: 'github.com/org/app' } }, 'source.url', 'https:// or ssh://'],
];

test.each(badSpecs)('a Workload with %s is refused', (_what, spec, path, message) => {
  const issues = WorkloadSpec.safeParse(spec).error?.issues ?? [];
  expect(issues.map((i) => ({ path: i.path.join('.'), message: i.message }))).toContainEqual({
    path,
    message: expect.stringContaining(message),
  });
});

describe('PostgresInstance', () => {
  const base = { apiVersion: 'lattice.dev/v1alpha1', kind: 'PostgresInstance', metadata: { name: 'db' } };

  test('storage is required', () => {
    const result = PostgresInstance.safeParse({ ...base, spec: { database: 'app', owner: 'app' } });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['spec.storage']);
  });

  test('a storage size is only compared with the stored one by the apiserver', () => {
    const spec = { database: 'app', owner: 'app', storage: { size: '1Gi' } };
    expect(PostgresInstance.safeParse({ ...base, spec }).success).toBe(true);
  });
});

test('a CronWorkload with a bad schedule is refused at spec.schedule', () => {
  const cron = { apiVersion: 'lattice.dev/v1alpha1', kind: 'CronWorkload', metadata: { name: 'c' } };
  const result = CronWorkload.safeParse({ ...cron, spec: { schedule: '0 0 * 13 *', template: { image: 'busybox' } } });
  expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
    [
      'spec.schedule',
      'month (the 4th field) must be 1-12 or JAN-DEC: *, a value, a range a-b, a step */n or a-b/n, or a comma-separated list of these',
    ],
  ]);
});
