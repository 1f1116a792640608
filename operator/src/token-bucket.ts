// A token bucket (the limiter package's) full from the start: a new client, provider or event
// source has its burst at once, as client-go's and nginx's buckets do. limiter's start empty.
import { TokenBucket } from 'limiter';

export function fullTokenBucket(burst: number, tokensPerInterval: number, interval: 'second' | number = 'second'): TokenBucket {
  const bucket = new TokenBucket({ bucketSize: burst, tokensPerInterval, interval });
  bucket.content = burst;
  return bucket;
}
