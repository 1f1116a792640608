import { bridgeName, isolationScript } from './isolation.js';

describe('host isolation', () => {
  it('names every namespace bridge with the prefix the rules match, within 15 characters', () => {
    const name = bridgeName('lattice-ns-a-very-long-namespace-name-indeed');
    expect(name).toMatch(/^lt-[0-9a-f]{12}$/);
    expect(bridgeName('lattice-ns-shop')).not.toBe(bridgeName('lattice-ns-shot'));
  });

  it('refuses new connections to the host and to private ranges, lets answers and bridge traffic through, idempotently', () => {
    const script = isolationScript();
    expect(script).toContain('$IPT -A LATTICE-HOST -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    expect(script).toContain('$IPT -A LATTICE-ISOLATION -o lt-+ -j RETURN');
    for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10']) {
      expect(script).toContain(`-A LATTICE-ISOLATION -d ${range} -p tcp -j REJECT`);
    }
    // Jumps are added only when missing; the chains are flushed and refilled.
    expect(script).toContain('$IPT -C INPUT -i lt-+ -j LATTICE-HOST 2>/dev/null || $IPT -I INPUT 1 -i lt-+ -j LATTICE-HOST');
    expect(script).toContain('$IPT -N LATTICE-HOST 2>/dev/null || $IPT -F LATTICE-HOST');
  });
});
