import { renderHosts } from './hosts.js';
import { inSubnet } from './services.js';

test('tells addresses of the namespace subnet from others', () => {
  expect(inSubnet('172.20.0.5', '172.20.0.0/16')).toBe(true);
  expect(inSubnet('::ffff:172.20.3.9', '172.20.0.0/16')).toBe(true);
  expect(inSubnet('172.21.0.5', '172.20.0.0/16')).toBe(false);
  expect(inSubnet('10.0.0.1', '172.20.0.0/16')).toBe(false);
  expect(inSubnet('fe80::1', '172.20.0.0/16')).toBe(false);
  expect(inSubnet('172.20.0.5', 'garbage')).toBe(false);
});

test("the hosts file names the pod and its namespace's Services", () => {
  const text = renderHosts({ podIp: '172.20.0.5', hostname: 'web-1', services: ['172.20.0.1\tdb db.ns db.ns.svc db.ns.svc.cluster.local'] });
  expect(text.split('\n')).toEqual([
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    '172.20.0.5\tweb-1',
    '# The Services of this namespace: the provider agent relays them to wherever they run (Lattice).',
    '172.20.0.1\tdb db.ns db.ns.svc db.ns.svc.cluster.local',
    '',
  ]);
});
