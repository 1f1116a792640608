import fc from 'fast-check';
import { WORKLOAD_NAME_RULES } from '../../../../crds/src/workload.js';
import { publicLabel, publicLabelProblem } from './exposure.js';

/** Names as Kubernetes allows them for Services and namespaces: DNS labels, dashes anywhere inside. */
const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/);
const publicWorkload = (name: string) => ({ metadata: { name }, spec: { ports: [{ name: 'http', port: 80, protocol: 'HTTP' as const, expose: 'public' as const }] } });
const nameAllowed = (name: string) => WORKLOAD_NAME_RULES.every((rule) => rule.check(publicWorkload(name) as never));

describe('public host labels', () => {
  test('no two Workloads the CRD accepts share one, however the dashes fall', () => {
    fc.assert(
      fc.property(dnsLabel, dnsLabel, dnsLabel, dnsLabel, (name1, ns1, name2, ns2) => {
        fc.pre(nameAllowed(name1) && nameAllowed(name2) && (name1 !== name2 || ns1 !== ns2));
        const [a, b] = [publicLabel(name1, ns1), publicLabel(name2, ns2)];
        return a === undefined || a !== b;
      }),
      { numRuns: 5_000 },
    );
  });

  test('moving a dash between name and namespace never gives the same label', () => {
    fc.assert(
      fc.property(dnsLabel, dnsLabel, dnsLabel, (x, y, z) => {
        const [a, b] = [publicLabel(`${x}-${y}`, z), publicLabel(x, `${y}-${z}`)];
        return a === undefined || b === undefined || a !== b;
      }),
      { numRuns: 2_000 },
    );
  });

  test('the squat a single dash allowed is gone: web-acme in prod and web in acme-prod differ', () => {
    expect(publicLabel('web-acme', 'prod')).toBe('web-acme--prod');
    expect(publicLabel('web', 'acme-prod')).toBe('web--acme-prod');
  });

  test('a name holding the separator is refused by the CRD, and has no label', () => {
    expect(nameAllowed('web--acme')).toBe(false);
    expect(publicLabel('web--acme', 'prod')).toBeUndefined();
  });

  test('a label longer than DNS allows is none, and says why', () => {
    expect(publicLabel('w'.repeat(40), 'n'.repeat(21))).toBe(`${'w'.repeat(40)}--${'n'.repeat(21)}`);
    expect(publicLabel('w'.repeat(40), 'n'.repeat(22))).toBeUndefined();
    expect(publicLabelProblem('w'.repeat(40), 'n'.repeat(22))).toContain('64 characters, over the 63 of a DNS label');
  });

  test('xn-- stays for internationalized names', () => {
    expect(publicLabel('xn', 'prod')).toBeUndefined();
  });
});
