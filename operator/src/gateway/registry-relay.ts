// The cluster's image registry, relayed to providers: each Registry call carries one HTTP request
// of a provider's Docker engine (through its agent) to the registry, on the agent's own mutual-TLS
// channel, so the provider reaches no address of the cluster and is known by its certificate.
// One call per request gives each transfer its own HTTP/2 flow control; backpressure runs both
// ways (a slow registry holds the agent's upload back, a slow engine the registry's download).
import * as http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { RegistryFrameSchema, bodyFrames, type RegistryFrame, type RegistryRequest } from '@lattice/protocol';
import { decide, nodeRepositories } from './registry-access.js';

export interface RegistryRelayOptions {
  /** The name image references give the registry, host[:port]. */
  name: string;
  /** Where the gateway reaches it, e.g. http://127.0.0.1:5001. */
  url: URL;
  /** The pods bound to a node, from the gateway's cache. */
  podsOf(node: string): readonly k8s.V1Pod[];
  log: Logger;
}

type Call = grpc.ServerDuplexStream<unknown, unknown>;

/** A node may have this many registry requests in flight (Docker pulls 3 layers at a time, pushes 5). */
const MAX_CALLS_PER_NODE = 16;
/** Request headers passed on to the registry; the node's identity is its certificate, not a header. */
const REQUEST_HEADERS = new Set(['accept', 'content-type', 'content-length', 'content-range', 'range', 'user-agent', 'docker-distribution-api-version']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export class RegistryRelay {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly options: RegistryRelayOptions) {}

  /** Serves one Registry call of an authenticated node. */
  serve(call: Call, node: string): void {
    const log = this.options.log.child({ node });
    const count = this.inFlight.get(node) ?? 0;
    if (count >= MAX_CALLS_PER_NODE) return this.refuse(call, 429, 'TOOMANYREQUESTS', `more than ${MAX_CALLS_PER_NODE} registry requests at once`);
    this.inFlight.set(node, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(node) ?? 1) - 1;
      if (left > 0) this.inFlight.set(node, left);
      else this.inFlight.delete(node);
    };
    // Done once the answer is sent (finish), the call is closed, failed or cancelled.
    for (const event of ['finish', 'close', 'error', 'cancelled']) call.on(event, release);

    let upstream: http.ClientRequest | undefined;
    call.on('data', (raw: unknown) => {
      const parsed = RegistryFrameSchema.safeParse(raw);
      if (!parsed.success) {
        upstream?.destroy();
        return this.refuse(call, 400, 'UNSUPPORTED', `invalid registry frame: ${parsed.error.issues[0]?.message}`);
      }
      const frame: RegistryFrame = parsed.data;
      if (frame.frame === 'request' && !upstream) {
        upstream = this.forward(call, node, frame.request, log);
      } else if (frame.frame === 'body' && upstream) {
        if (!upstream.write(frame.body)) {
          call.pause();
          upstream.once('drain', () => call.resume());
        }
      } else {
        upstream?.destroy();
        this.refuse(call, 400, 'UNSUPPORTED', 'a registry call is one request, then its body');
      }
    });
    call.on('end', () => upstream?.end());
    call.on('cancelled', () => upstream?.destroy());
  }

  /** Opens the request to the registry, if the node may make it; undefined when refused. */
  private forward(call: Call, node: string, request: RegistryRequest, log: Logger): http.ClientRequest | undefined {
    const url = new URL(request.path, this.options.url);
    const decision = decide(request.method, url.pathname, nodeRepositories(this.options.name, this.options.podsOf(node)));
    if (!decision.allowed) {
      log.info({ method: request.method, path: url.pathname, reason: decision.message }, 'refused a registry request');
      this.refuse(call, decision.status, decision.code, decision.message);
      return undefined;
    }
    // A cross-repository mount would copy a blob from a repository the node may not read.
    url.searchParams.delete('mount');
    url.searchParams.delete('from');
    const headers: Record<string, string> = {};
    for (const h of request.headers) if (REQUEST_HEADERS.has(h.name.toLowerCase())) headers[h.name.toLowerCase()] = h.value;
    const upstream = http.request(url, { method: request.method, headers });
    upstream.on('response', (res) => {
      const responseHeaders = Object.entries(res.headers).flatMap(([name, value]) => {
        if (HOP_BY_HOP.has(name) || value === undefined) return [];
        const values = Array.isArray(value) ? value : [value];
        return values.map((v) => ({ name, value: name === 'location' ? this.relative(v) : v }));
      });
      call.write({ frame: 'response', response: { status: res.statusCode ?? 502, headers: responseHeaders } });
      res.on('data', (chunk: Buffer) => {
        for (const frame of bodyFrames(chunk)) {
          if (!call.write(frame)) {
            res.pause();
            call.once('drain', () => res.resume());
          }
        }
      });
      res.on('end', () => call.end());
      res.on('error', (err) => this.fail(call, err, log));
    });
    upstream.on('error', (err) => this.fail(call, err, log));
    return upstream;
  }

  /** Upload URLs point back at the registry: make them relative, so the engine asks the relay again. */
  private relative(location: string): string {
    const url = new URL(location, this.options.url);
    return url.origin === this.options.url.origin ? `${url.pathname}${url.search}` : location;
  }

  /** Answers with a registry error (the engine shows its message), then ends the call. */
  private refuse(call: Call, status: number, code: string, message: string): void {
    const body = Buffer.from(JSON.stringify({ errors: [{ code, message }] }));
    call.write({ frame: 'response', response: { status, headers: [{ name: 'content-type', value: 'application/json' }, { name: 'content-length', value: String(body.length) }] } });
    call.write({ frame: 'body', body });
    call.end();
  }

  private fail(call: Call, err: Error, log: Logger): void {
    log.warn({ err: err.message }, 'the registry request failed');
    // grpc-js ends a server stream with this status when it sees 'error'.
    call.emit('error', { code: grpc.status.UNAVAILABLE, details: `the cluster registry did not answer: ${err.message}` });
  }
}
