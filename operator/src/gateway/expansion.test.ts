import fc from 'fast-check';
import { envLookup, expand } from './expansion.js';

const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', EMPTY: '' };
const lookup = (name: string) => vars[name];

describe('expand, as the kubelet expands $(VAR)', () => {
  // Cases from k8s.io/kubernetes third_party/forked/golang/expansion's own tests.
  test.each([
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(EMPTY)', ''],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$', '$$'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['trailing $', 'trailing $'],
    ['$()', '$()'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
  ])('%s → %s', (input, expected) => {
    expect(expand(input, lookup)).toBe(expected);
  });

  test('text without a $ is left as it is, whatever it holds', () => {
    fc.assert(fc.property(fc.string().filter((s) => !s.includes('$')), (s) => expand(s, lookup) === s));
  });

  test('names defined later, or filled in by the agent, are not known', () => {
    const find = envLookup([
      { name: 'A', value: '1' },
      { name: 'IP', value: '', fromPodIp: true },
      { name: 'A', value: '2' },
    ]);
    expect([find('A'), find('IP'), find('B')]).toEqual(['2', undefined, undefined]);
  });
});
