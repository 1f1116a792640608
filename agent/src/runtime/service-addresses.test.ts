import { allocateAddresses, bridgeAddressesScript, cidrRange, containerRange, ipToNumber, numberToIp, serviceRange, servicesReserved } from './service-addresses.js';

describe('Service addresses on a namespace network', () => {
  it('splits the subnet: the lower half for containers, the upper half (less broadcast) for Services', () => {
    expect(containerRange('172.20.0.0/16')).toBe('172.20.0.0/17');
    const services = serviceRange('172.20.0.0/16')!;
    expect([numberToIp(services.first), numberToIp(services.last)]).toEqual(['172.20.128.0', '172.20.255.254']);
    const small = serviceRange('192.168.16.0/20')!;
    expect([numberToIp(small.first), numberToIp(small.last)]).toEqual(['192.168.24.0', '192.168.31.254']);
    // Too small to split, or not IPv4.
    expect(containerRange('10.0.0.0/30')).toBeUndefined();
    expect(serviceRange('fd00::/64')).toBeUndefined();
    expect(cidrRange('garbage')).toBeUndefined();
  });

  it('knows a network whose IPRange keeps Docker out of the upper half from one made before', () => {
    expect(servicesReserved('172.20.0.0/16', '172.20.0.0/17')).toBe(true);
    expect(servicesReserved('172.20.0.0/16', undefined)).toBe(false);
    expect(servicesReserved('172.20.0.0/16', '172.20.0.0/16')).toBe(false);
    expect(servicesReserved('172.20.0.0/16', '172.21.0.0/17')).toBe(false);
  });

  it('gives each Service its own address in the range, the same for the same names whatever their order', () => {
    const range = serviceRange('172.20.0.0/16')!;
    const placed = allocateAddresses(['web', 'api', 'db'], range, ['172.20.0.1']);
    expect(new Set(placed.values()).size).toBe(3);
    for (const address of placed.values()) expect(ipToNumber(address)).toBeGreaterThanOrEqual(range.first);
    for (const address of placed.values()) expect(ipToNumber(address)).toBeLessThanOrEqual(range.last);
    expect(allocateAddresses(['db', 'web', 'api'], range, ['172.20.0.1'])).toEqual(placed);
    // Another agent (or this one after a restart) seeing one Service more places the others alike.
    const more = allocateAddresses(['web', 'api', 'db', 'cache'], range, []);
    for (const name of ['web', 'api', 'db']) expect(more.get(name)).toBe(placed.get(name));
  });

  it('moves a Service off an address taken by a container or another Service, and keeps an address once given', () => {
    const range = { first: ipToNumber('10.1.0.8'), last: ipToNumber('10.1.0.11') };
    const alone = allocateAddresses(['web'], range, [])!.get('web')!;
    const next = numberToIp(range.first + ((ipToNumber(alone) - range.first + 1) % 4));
    // A container holds that address (a network made before Service addresses): the next one.
    expect(allocateAddresses(['web'], range, [alone]).get('web')).toBe(next);
    // Given before, kept, even where another name's hash falls.
    const previous = new Map([['zeta', alone]]);
    const placed = allocateAddresses(['web', 'zeta'], range, [], previous);
    expect(placed.get('zeta')).toBe(alone);
    expect(placed.get('web')).toBe(next);
    // Four addresses, five Services: the last by name gets none.
    const full = allocateAddresses(['a', 'b', 'c', 'd', 'e'], range, []);
    expect(full.size).toBe(4);
    expect(new Set(full.values()).size).toBe(4);
  });

  it('makes the wanted /32 addresses exactly those of the bridge besides its gateway, idempotently', () => {
    const script = bridgeAddressesScript('lt-0123456789ab', ['172.20.128.9', '172.20.200.1']);
    expect(script).toContain('ip addr replace 172.20.128.9/32 dev lt-0123456789ab');
    expect(script).toContain('ip addr replace 172.20.200.1/32 dev lt-0123456789ab');
    expect(script).toContain('case " 172.20.128.9/32 172.20.200.1/32 " in *" $cidr "*) ;; *) ip addr del "$cidr" dev lt-0123456789ab');
    expect(() => bridgeAddressesScript('lt-x; reboot', [])).toThrow();
    expect(() => bridgeAddressesScript('lt-x', ['1.2.3.4; reboot'])).toThrow();
  });
});
