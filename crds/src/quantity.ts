// Kubernetes resource quantities ("500m", "1.5Gi", "2e3") as numbers. client-node's own helper
// is not exported and cannot read decimal binary quantities, hence this small parser.
const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The value of a quantity in its base unit (cores, bytes); throws on malformed input. */
export function parseQuantity(quantity: string): number {
  const m = QUANTITY.exec(quantity.trim());
  if (!m) throw new Error(`"${quantity}" is not a Kubernetes quantity (e.g. 500m, 2, 256Mi, 1.5Gi)`);
  const [, number, exponent, suffix = ''] = m;
  return exponent ? Number(number + exponent) : Number(number) * SUFFIXES[suffix]!;
}
