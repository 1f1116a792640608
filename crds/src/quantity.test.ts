import { parseQuantity } from './quantity.js';

test.each([
  ['500m', 0.5],
  ['2', 2],
  ['0.25', 0.25],
  ['256Mi', 256 * 2 ** 20],
  ['1.5Gi', 1.5 * 2 ** 30],
  ['1G', 1e9],
  ['2e3', 2000],
  ['100k', 100_000],
])('%s is %d', (q, value) => {
  expect(parseQuantity(q)).toBeCloseTo(value);
});

test.each(['lots', '1.2.3', '5 Mi', '', 'Mi'])('"%s" is refused', (q) => {
  expect(() => parseQuantity(q)).toThrow(/not a Kubernetes quantity/);
});
