import { acceptedPodIp, acceptedTailnetAddress } from './reported-addresses.js';

describe('a pod IP a provider reports', () => {
  test.each(['172.17.0.2', '10.1.2.3', '192.168.65.4', 'fd00:1::5'])('%s, a container address, is taken', (ip) => {
    expect(acceptedPodIp(ip)).toBe(ip);
  });

  test.each([
    ['the apiserver on loopback', '127.0.0.1'],
    ['a cloud metadata service', '169.254.169.254'],
    ['a public host', '8.8.8.8'],
    ['loopback in disguise', '0x7f.1'],
    ['loopback as a number', '2130706433'],
    ['IPv6 loopback', '::1'],
    ['an IPv4-mapped IPv6 address', '::ffff:10.0.0.1'],
    ['a tailnet address', '100.64.0.7'],
    ['a host name', 'evil.example.com'],
    ['an address with a port', '10.0.0.1:80'],
    ['nothing', ''],
  ])('%s (%s) is refused', (_what, ip) => {
    expect(acceptedPodIp(ip)).toBeUndefined();
  });

  test('IPv6 is given in canonical form', () => {
    expect(acceptedPodIp('fd00:0001:0000::0005')).toBe('fd00:1::5');
  });
});

describe('a tailnet address a provider reports', () => {
  test.each(['100.64.0.1', '100.127.255.254', 'fd7a:115c:a1e0::1'])('%s is taken', (address) => {
    expect(acceptedTailnetAddress(address)).toBe(address);
  });

  test.each(['100.128.0.1', '10.0.0.1', 'fd00::1', '8.8.8.8', 'attacker.example', '100.64.0.1.nip.io'])('%s is refused', (address) => {
    expect(acceptedTailnetAddress(address)).toBeUndefined();
  });
});
