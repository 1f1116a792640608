import type * as k8s from '@kubernetes/client-node';
import { PUBLIC_PORTS_ANNOTATION, TCP_PORTS_ANNOTATION } from './exposure.js';
import { allocate, parsePortRange } from './tcp-ports.js';

function service(name: string, created: string, tcp: string[], allocated?: Record<string, number>): k8s.V1Service {
  const ports = tcp.map((p, i) => ({ name: p, port: 5432 + i, protocol: 'TCP' }));
  return {
    metadata: {
      name,
      namespace: 'ns',
      creationTimestamp: new Date(created),
      annotations: { [PUBLIC_PORTS_ANNOTATION]: JSON.stringify(ports), ...(allocated ? { [TCP_PORTS_ANNOTATION]: JSON.stringify(allocated) } : {}) },
    },
  };
}

const range = { first: 30000, last: 30002 };
const byName = (m: Map<k8s.V1Service, Record<string, number>>) => Object.fromEntries([...m].map(([s, p]) => [s.metadata!.name!, p]));

test('parses a port range', () => {
  expect(parsePortRange('30000-30099')).toEqual({ first: 30000, last: 30099 });
  expect(parsePortRange('30099-30000')).toBeUndefined();
  expect(parsePortRange('0-10')).toBeUndefined();
  expect(parsePortRange('30000')).toBeUndefined();
});

test('keeps the ports Services hold and gives new ports the lowest free ones', () => {
  const result = allocate([service('b', '2026-01-02', ['pg']), service('a', '2026-01-01', ['pg'], { pg: 30001 })], range);
  expect(byName(result)).toEqual({ a: { pg: 30001 }, b: { pg: 30000 } });
});

test('an older Service keeps a port two claim; a port no longer public is released', () => {
  const result = allocate([service('new', '2026-01-02', ['pg'], { pg: 30000, gone: 30002 }), service('old', '2026-01-01', ['pg'], { pg: 30000 })], range);
  expect(byName(result)).toEqual({ old: { pg: 30000 }, new: { pg: 30001 } });
});

test('a full range leaves the port unallocated', () => {
  const result = allocate([service('a', '2026-01-01', ['p1', 'p2', 'p3', 'p4'])], range);
  expect(byName(result)).toEqual({ a: { p1: 30000, p2: 30001, p3: 30002 } });
});
