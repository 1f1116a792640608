// Caps on what one client of the public ingress may take, so that it cannot take all of it.
// Connections (nginx's limit_conn): at most `perClient` open at once from one address, and `total`
// in all, counted on the TCP connection before TLS, for HTTPS and public TCP ports alike; one over
// a cap is closed at once. HTTP requests (nginx's limit_req): a token bucket per address; a request
// over its rate is answered 429 with Retry-After. Both are counted in lattice_ingress_refused_total.
import type net from 'node:net';
import type { TokenBucket } from 'limiter';
import { fullTokenBucket } from '../../token-bucket.js';

export interface ConnectionCaps {
  /** Open connections from one client address; 0: no cap (clients behind one NAT or proxy address). */
  perClient: number;
  total: number;
}

export const DEFAULT_CAPS: ConnectionCaps = { perClient: 512, total: 20_000 };

export class ClientLimits {
  private readonly open = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly caps: ConnectionCaps,
    private readonly refused: (reason: 'client-connections' | 'total-connections') => void,
  ) {}

  /** Counts the socket until it closes; false (and the socket destroyed) when it is over a cap. */
  admit(socket: net.Socket): boolean {
    const address = socket.remoteAddress ?? '';
    const fromClient = this.open.get(address) ?? 0;
    const over = this.total >= this.caps.total ? 'total-connections' : this.caps.perClient > 0 && fromClient >= this.caps.perClient ? 'client-connections' : undefined;
    if (over) {
      this.refused(over);
      socket.destroy();
      return false;
    }
    this.open.set(address, fromClient + 1);
    this.total++;
    socket.once('close', () => {
      this.total--;
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
    });
    return true;
  }
}

export interface RequestRate {
  /** Requests a second one client address may make, on average; 0: no cap. */
  perSecond: number;
  /** How many it may make at once, above the average. */
  burst: number;
}

/** Far above what a person's browser asks, below what one address could flood a replica with. */
export const DEFAULT_REQUEST_RATE: RequestRate = { perSecond: 1000, burst: 2000 };

/** Buckets of clients idle this long are dropped (a full bucket is as good as a new one). */
const SWEEP_MS = 60_000;

export class RequestRates {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly rate: RequestRate) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();
  }

  /** Whether one more request from `address` is within its rate (and, if so, counts it). */
  admit(address: string): boolean {
    if (this.rate.perSecond <= 0) return true;
    let bucket = this.buckets.get(address);
    if (!bucket) {
      bucket = fullTokenBucket(this.rate.burst, this.rate.perSecond);
      this.buckets.set(address, bucket);
    }
    return bucket.tryRemoveTokens(1);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /** Forgets clients whose buckets refilled: memory follows the clients of the last minute only. */
  private sweep(): void {
    for (const [address, bucket] of this.buckets) {
      bucket.drip();
      if (bucket.content >= bucket.bucketSize) this.buckets.delete(address);
    }
  }
}
