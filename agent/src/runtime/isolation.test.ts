import { bridgeName, isolationScript } from './isolation.js';

describe('host isolation', () => {
  it('names every namespace bridge with the prefix the rules match, within 15 characters', () => {
    const name = bridgeName('lattice-ns-a-very-long-namespace-name-indeed');
    expect(name).toMatch(/^lt-[0-9a-f]{12}$/);
    expect(bridgeName('lattice-ns-shop')).not.toBe(bridgeName('lattice-ns-shot'));
  });

  it('refuses new connections to the host and to private ranges, lets answers and bridge traffic through, idempotently', () => {
    const script = isolationScript();
    expect(script).toContain('\n-A LATTICE-HOST -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n');
    expect(script).toContain('\n-A LATTICE-ISOLATION -o lt-+ -j RETURN\n');
    for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10']) {
      expect(script).toContain(`-A LATTICE-ISOLATION -d ${range} -p tcp -j REJECT`);
    }
    // Jumps are added only when missing; the chains are rewritten in one transaction, answers first.
    expect(script).toContain('$IPT -C INPUT -i lt-+ -j LATTICE-HOST 2>/dev/null || $IPT -I INPUT 1 -i lt-+ -j LATTICE-HOST');
    const restore = /"\$IPT-restore" --noflush <<'RULES'\n([^]*?)\nRULES/.exec(script)?.[1]?.split('\n') ?? [];
    expect(restore.slice(0, 3)).toEqual(['*filter', ':LATTICE-ISOLATION - [0:0]', ':LATTICE-HOST - [0:0]']);
    expect(restore.at(-1)).toBe('COMMIT');
    const host = restore.filter((rule) => rule.startsWith('-A LATTICE-HOST'));
    expect(host[0]).toBe('-A LATTICE-HOST -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    expect(host.at(-1)).toBe('-A LATTICE-HOST -j REJECT --reject-with icmp-port-unreachable');
  });
});
