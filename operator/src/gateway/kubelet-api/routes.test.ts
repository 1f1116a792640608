import { matchRoute } from './routes.js';

test.each([
  ['/healthz', { kind: 'healthz' }],
  ['/containerLogs/ns/pod/app', { kind: 'containerLogs', namespace: 'ns', pod: 'pod', container: 'app' }],
  ['/exec/ns/pod/app', { kind: 'exec', namespace: 'ns', pod: 'pod', container: 'app' }],
  ['/exec/ns/pod/uid-1/app', { kind: 'exec', namespace: 'ns', pod: 'pod', uid: 'uid-1', container: 'app' }],
  ['/attach/ns/pod/app', { kind: 'attach', namespace: 'ns', pod: 'pod', container: 'app' }],
  ['/portForward/ns/pod', { kind: 'portForward', namespace: 'ns', pod: 'pod' }],
])('%s', (path, route) => {
  expect(matchRoute(path)).toEqual(route);
});

test.each(['/', '/stats/summary', '/containerLogs/ns/pod', '/exec/ns/pod/a/b/c', '/containerLogs/ns/pod/%E0%A4%A'])('%s is not served', (path) => {
  expect(matchRoute(path)).toBeUndefined();
});
