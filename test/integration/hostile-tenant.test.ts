// A hostile tenant: a user with the `edit` role in their own namespace, as a platform team grants
// one, trying to take what Lattice publishes. The real apiserver with Lattice's admission policies
// (config/admission) refuses it before anything is stored; the operator's own writes still pass.
import { installCrds, kubectl, uniqueName, waitFor } from '../support/cluster.js';

const namespace = uniqueName('it-tenant');
const TENANT = 'mallory';
const MANAGED = { 'app.kubernetes.io/managed-by': 'lattice-operator' };

beforeAll(async () => {
  // Again here (the global setup applied them): another suite may have uninstalled Lattice since.
  await installCrds();
  await kubectl(['create', 'namespace', namespace]);
  await kubectl(['create', 'rolebinding', 'tenant-edit', '-n', namespace, '--clusterrole', 'edit', '--user', TENANT]);
  // The apiserver enforces a policy once its informers have it: wait for the first refusal.
  const probe = { name: 'probe', labels: MANAGED };
  await waitFor('the admission policy in force', () => applyService(probe, TENANT, ['--dry-run=server']).then(() => false, () => true), { timeoutMs: 30_000 });
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
});

/** Applies a Service as `as` (the tenant, or the admin when undefined). */
async function applyService(service: { name: string; labels?: object; annotations?: object }, as?: string, extra: string[] = []): Promise<string> {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, namespace, labels: service.labels, annotations: service.annotations },
    spec: { selector: { app: service.name }, ports: [{ name: 'http', port: 8080 }] },
  };
  return kubectl(['apply', '--server-side', '-f', '-', ...(as ? ['--as', as] : []), ...extra], { input: JSON.stringify(manifest) });
}

/** The apiserver's refusal of what the tenant tried. */
async function refused(attempt: Promise<unknown>): Promise<string> {
  const stderr = await attempt.then(
    () => undefined,
    (err: { stderr?: string }) => err.stderr ?? String(err),
  );
  if (stderr === undefined) throw new Error('the apiserver accepted it');
  return stderr;
}

const FORBIDDEN = 'only the Lattice operator may write Services labelled app.kubernetes.io/managed-by=lattice-operator or annotated lattice.dev/public-*';

describe('a tenant with edit rights in their namespace', () => {
  test('may still make and change their own plain Services', async () => {
    await applyService({ name: 'plain' }, TENANT);
    await applyService({ name: 'plain', labels: { tier: 'web' } }, TENANT);
    expect(await kubectl(['get', 'service', 'plain', '-n', namespace, '-o', 'jsonpath={.metadata.labels.tier}'])).toBe('web');
  });

  test('cannot publish a port by making a Service the ingress routes', async () => {
    const forged = { name: 'forged', labels: MANAGED, annotations: { 'lattice.dev/public-ports': '[{"name":"http","port":8080,"protocol":"HTTP"}]' } };
    const error = await refused(applyService(forged, TENANT));
    expect(error).toContain(FORBIDDEN);
    expect(error).toContain(`${TENANT} may not publish ports in ${namespace}`);
    expect(await kubectl(['get', 'service', 'forged', '-n', namespace, '--ignore-not-found', '-o', 'name'])).toBe('');
  });

  test('cannot publish a port of a plain Service with the annotation alone', async () => {
    const error = await refused(applyService({ name: 'plain', annotations: { 'lattice.dev/public-ports': '[{"name":"http","port":8080,"protocol":"HTTP"}]' } }, TENANT));
    expect(error).toContain(FORBIDDEN);
  });

  describe("facing a Service the operator made for a Workload's public ports", () => {
    const name = 'web';
    const ports = { 'lattice.dev/public-ports': '[{"name":"db","port":5432,"protocol":"TCP"}]' };

    beforeAll(async () => {
      // As the operator writes it (the admin may `publish`, as the operator's ClusterRole may).
      await applyService({ name, labels: MANAGED, annotations: { ...ports, 'lattice.dev/public-tcp-ports': '{"db":30001}' } });
    });

    test("cannot claim another tenant's public TCP port", async () => {
      const error = await refused(kubectl(['annotate', 'service', name, '-n', namespace, '--overwrite', 'lattice.dev/public-tcp-ports={"db":30000}', '--as', TENANT]));
      expect(error).toContain(FORBIDDEN);
    });

    test('cannot publish more of its ports, nor take the Service from the ingress', async () => {
      expect(await refused(kubectl(['annotate', 'service', name, '-n', namespace, '--overwrite', 'lattice.dev/public-ports=[]', '--as', TENANT]))).toContain(FORBIDDEN);
      expect(await refused(kubectl(['label', 'service', name, '-n', namespace, 'app.kubernetes.io/managed-by-', '--as', TENANT]))).toContain(FORBIDDEN);
      expect(await refused(kubectl(['patch', 'service', name, '-n', namespace, '--type', 'merge', '-p', '{"spec":{"selector":{"app":"other"}}}', '--as', TENANT]))).toContain(FORBIDDEN);
    });

    test('leaves it as the operator wrote it', async () => {
      const stored = JSON.parse(await kubectl(['get', 'service', name, '-n', namespace, '-o', 'json']));
      expect(stored.metadata.annotations).toMatchObject({ ...ports, 'lattice.dev/public-tcp-ports': '{"db":30001}' });
      expect(stored.spec.selector).toEqual({ app: name });
    });
  });
});
