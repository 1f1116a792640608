// The price list the platform publishes: a ConfigMap `lattice-pricing` in the gateway's
// namespace, so the cluster operator changes prices with kubectl and every provider sees them.
//
//   kubectl -n lattice-system create configmap lattice-pricing \
//     --from-literal=currency=USD --from-literal=cpuCoreHour=0.02 --from-literal=memoryGibHour=0.004
//
// Absent: the defaults below. Invalid: the last valid list stays in force and the error is logged.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isNotFound } from '../kube/errors.js';

export const PRICING_CONFIGMAP = 'lattice-pricing';

const price = (what: string) =>
  z.coerce
    .number({ message: `${what} must be a number of currency units per hour` })
    .finite()
    .min(0, `${what} cannot be negative`)
    .max(1_000_000, `${what} is implausibly high`);

export const PriceListSchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as USD').default('USD'),
  /** Per CPU core reserved for an hour. */
  cpuCoreHour: price('cpuCoreHour').default(0.02),
  /** Per GiB of memory reserved for an hour. */
  memoryGibHour: price('memoryGibHour').default(0.004),
});

export type PriceList = z.infer<typeof PriceListSchema>;

export const DEFAULT_PRICES: PriceList = PriceListSchema.parse({});

/** Parses a ConfigMap's data; the error names the key at fault. */
export function parsePriceList(data: Record<string, string> | undefined): PriceList {
  const parsed = PriceListSchema.strict().safeParse(data ?? {});
  if (!parsed.success) {
    throw new Error(`ConfigMap ${PRICING_CONFIGMAP} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export class Pricing {
  private current = DEFAULT_PRICES;
  private lastError = '';

  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly namespace: string,
    private readonly log: Logger,
  ) {}

  /** The price list in force now: read on each metering tick, so a change applies from the next one. */
  async read(): Promise<PriceList> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ name: PRICING_CONFIGMAP, namespace: this.namespace }).catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      this.current = parsePriceList(cm?.data);
      this.lastError = '';
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastError) this.log.error({ err: message }, 'keeping the previous price list');
      this.lastError = message;
    }
    return this.current;
  }
}
