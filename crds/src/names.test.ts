// The name rules: their TypeScript twins (what the controllers run on stored objects) agree with
// the limits the children's names need, and the CRDs carry them at their root.
import { objectOpenAPI } from './crd.js';
import { CRON_WORKLOAD_NAME_RULES } from './cron-workload.js';
import { KINDS } from './index.js';
import { nameError } from './names.js';
import { POSTGRES_INSTANCE_NAME_RULES } from './postgres-instance.js';
import { WORKLOAD_NAME_RULES, type Workload } from './workload.js';

const volumes = [{ name: 'data', mountPath: '/data', size: '1Gi' }];
const workload = (name: string, spec: Partial<Workload['spec']> = {}) => ({ metadata: { name }, spec }) as Workload;
const named = (name: string) => ({ metadata: { name } }) as never;

describe('a Workload', () => {
  test.each(['web', 'a', 'web-app-2', 'x'.repeat(63)])('may be named %s', (name) => {
    expect(nameError(WORKLOAD_NAME_RULES, workload(name))).toBeUndefined();
  });

  test.each(['my.app', '2web', 'web-', 'Web', 'x'.repeat(64)])('may not be named %s: it names a Service', (name) => {
    expect(nameError(WORKLOAD_NAME_RULES, workload(name))).toMatch(/^a Workload's name must be a DNS label of at most 63 characters .*Service$/);
  });

  test('with volumes has 52 characters, for its StatefulSet', () => {
    expect(nameError(WORKLOAD_NAME_RULES, workload('x'.repeat(52), { volumes }))).toBeUndefined();
    expect(nameError(WORKLOAD_NAME_RULES, workload('x'.repeat(53), { volumes }))).toMatch(
      /^a Workload with spec.volumes must have a name of at most 52 characters/,
    );
    expect(nameError(WORKLOAD_NAME_RULES, workload('x'.repeat(53), { volumes: [] }))).toBeUndefined();
  });
});

test('a PostgresInstance has 52 characters of a DNS label, for its Service and StatefulSet', () => {
  expect(nameError(POSTGRES_INSTANCE_NAME_RULES, named('x'.repeat(52)))).toBeUndefined();
  expect(nameError(POSTGRES_INSTANCE_NAME_RULES, named('x'.repeat(53)))).toMatch(/^a PostgresInstance's name must be a DNS label of at most 52 characters/);
  expect(nameError(POSTGRES_INSTANCE_NAME_RULES, named('app.db'))).toMatch(/no dots/);
});

test('a CronWorkload has 50 characters, for its runs (dots allowed: a Job name is a subdomain)', () => {
  expect(nameError(CRON_WORKLOAD_NAME_RULES, named('x'.repeat(50)))).toBeUndefined();
  expect(nameError(CRON_WORKLOAD_NAME_RULES, named('nightly.backup'))).toBeUndefined();
  expect(nameError(CRON_WORKLOAD_NAME_RULES, named('x'.repeat(51)))).toMatch(/^a CronWorkload's name must have at most 50 characters/);
});

test.each(KINDS.map((kind) => [kind.kind, kind] as const))('the %s CRD checks the name at its root, on create', (_kind, kind) => {
  const rules = objectOpenAPI(kind)['x-kubernetes-validations'] as object[];
  expect(rules).toHaveLength(kind.nameRules.length);
  for (const rule of rules) {
    expect(rule).toMatchObject({ rule: expect.stringContaining('self.metadata.name'), optionalOldSelf: true, fieldPath: '.metadata' });
    expect(rule).not.toHaveProperty('check');
  }
});
