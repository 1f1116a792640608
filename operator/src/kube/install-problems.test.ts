import { InstallProblems, installProblem } from './install-problems.js';

/** What client-node throws for a refused request: the HTTP code, and the Status as a string. */
const apiError = (code: number, message: string) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', message }) });

describe('installProblem', () => {
  test('a Lattice kind the cluster does not serve: its CRD, and the command that installs it', () => {
    expect(installProblem('/apis/lattice.dev/v1alpha1/workloads', apiError(404, 'the server could not find the requested resource'))).toEqual({
      reason: 'MissingCRD',
      message: 'the CustomResourceDefinition workloads.lattice.dev is not installed: kubectl apply --server-side -k config/crd',
    });
    expect(installProblem('/apis/lattice.dev/v1alpha1/namespaces/team-a/cronworkloads', apiError(404, 'not found'))?.message).toContain('cronworkloads.lattice.dev');
  });

  test("a refusal: the apiserver's words (who may not do what, where), and where the right comes from", () => {
    const said = 'pods is forbidden: User "system:serviceaccount:lattice-system:lattice-operator" cannot list resource "pods" in API group "" at the cluster scope';
    expect(installProblem('/api/v1/pods', apiError(403, said))).toEqual({
      reason: 'Forbidden',
      message: `${said}; the operator's RBAC (config/rbac) grants it: apply it again`,
    });
  });

  test('another API group missing is named as such; any other failure is not an install problem', () => {
    expect(installProblem('/apis/certificates.k8s.io/v1/certificatesigningrequests', apiError(404, 'x'))).toEqual({
      reason: 'MissingAPI',
      message: 'the cluster serves no certificatesigningrequests in certificates.k8s.io/v1',
    });
    expect(installProblem('/api/v1/pods', apiError(500, 'etcd timed out'))).toBeUndefined();
    expect(installProblem('/api/v1/pods', new Error('socket hang up'))).toBeUndefined();
  });
});

test('each distinct problem is reported once', () => {
  const problems = new InstallProblems();
  const seen: string[] = [];
  problems.on('problem', (p: { reason: string }) => seen.push(p.reason));
  const missing = { reason: 'MissingCRD', message: 'the CustomResourceDefinition workloads.lattice.dev is not installed' } as const;
  expect([problems.report(missing), problems.report({ ...missing }), problems.report({ reason: 'Forbidden', message: 'x' })]).toEqual([true, false, true]);
  expect(seen).toEqual(['MissingCRD', 'Forbidden']);
  expect(problems.list()).toHaveLength(2);
});
