import { workload } from './fixtures.js';
import { nameProblem } from './names.js';

test.each(['web', 'a', 'web-app-2', 'x'.repeat(63)])('%s can name a Deployment and a Service', (name) => {
  expect(nameProblem(workload({}, { name }))).toBeUndefined();
});

test.each(['web.app', '2web', 'web-', 'x'.repeat(64)])('%s cannot', (name) => {
  expect(nameProblem(workload({}, { name }))).toMatch(/a Workload's name must be a DNS label of at most 63 characters .* it names the Workload's Service. Names cannot change/);
});

test('a StatefulSet leaves 52 characters for the name', () => {
  const volumes = [{ name: 'data', mountPath: '/data', size: '1Gi' }];
  expect(nameProblem(workload({ volumes }, { name: 'x'.repeat(52) }))).toBeUndefined();
  expect(nameProblem(workload({ volumes }, { name: 'x'.repeat(53) }))).toMatch(/a Workload with spec.volumes must have a name of at most 52 characters/);
});
