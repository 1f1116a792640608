// What one provider can make the gateway write to the apiserver: the budget a kubelet's own client
// has (--kube-api-qps 50, --kube-api-burst 100), shared by its pods' status, their Events and its
// Node. A provider is a stranger; without this, one that reports as fast as it can send would turn
// the gateway into a firehose at the apiserver. Writes of state wait for a token (and are coalesced
// meanwhile, the newest winning: nothing a well-behaved provider says is lost); Events over the
// budget are dropped, as client-go drops them.
import type { TokenBucket } from 'limiter';
import { fullTokenBucket } from '../token-bucket.js';

export interface WriteLimits {
  qps: number;
  burst: number;
}

const KUBELET_API_LIMITS: WriteLimits = { qps: 50, burst: 100 };

export class ProviderBudgets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly limits: WriteLimits = KUBELET_API_LIMITS) {}

  /** The node's bucket, kept across reconnects: reconnecting refills nothing. */
  of(nodeName: string): TokenBucket {
    let bucket = this.buckets.get(nodeName);
    if (!bucket) {
      bucket = fullTokenBucket(this.limits.burst, this.limits.qps);
      this.buckets.set(nodeName, bucket);
    }
    return bucket;
  }

  /** Forgets a node that is gone for good (revoked). */
  forget(nodeName: string): void {
    this.buckets.delete(nodeName);
  }
}
