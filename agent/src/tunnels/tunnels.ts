// Dial streams on the agent: the gateway asks for a TCP connection to a port of one of this
// node's pods (public ingress, port-forward, service-to-service), and the bytes travel on the
// node's one gateway stream (see the conventions in agent.proto at DialOptions).
//
// The pod must be one this node runs: the address comes from the runtime, which knows only its
// own pods, so a gateway (or anything impersonating one) can never reach another host, the
// provider's network or a pod of another node through this. Flow control both ways: the socket
// stops reading while the gateway stream is congested or the gateway paused it, and the gateway
// is paused while the socket cannot take more.
import net from 'node:net';
import type { Logger } from 'pino';
import type { AgentMessage, OpenStream } from '@lattice/protocol';

export interface TunnelTransport {
  /** Queues one message on the gateway stream; false when its buffer is full. */
  send(msg: AgentMessage): boolean;
  /** Resolves when the gateway stream can take more (or is gone). */
  drained(): Promise<void>;
}

/** Where a pod's port is, or a throw for a pod this node does not run. */
export type DialResolver = (podUid: string, port: number) => { host: string; port: number };

/** The channel of the bytes from the pod (those towards it come on channel 0). */
const FROM_POD = 1;
const CHUNK = 64 * 1024;
/** The gateway is paused once this much waits to be written to the pod (resumed when it is all written). */
const PAUSE_AT = 1024 * 1024;

class Tunnel {
  private congested = false;
  private gatewayPaused = false;
  /** We asked the gateway to pause: the pod is not reading fast enough. */
  private pausedGateway = false;
  private ended = false;

  constructor(
    readonly id: string,
    private readonly socket: net.Socket,
    private readonly transport: TunnelTransport,
    private readonly forget: () => void,
  ) {
    socket.on('data', (data: Buffer) => {
      for (let offset = 0; offset < data.length; offset += CHUNK) {
        if (!this.transport.send({ msg: 'streamData', streamData: { streamId: id, channel: FROM_POD, data: data.subarray(offset, offset + CHUNK) } })) {
          this.congested = true;
        }
      }
      if (this.congested) {
        socket.pause();
        void this.transport.drained().then(() => {
          this.congested = false;
          this.resume();
        });
      }
    });
    // The pod closed its side: tell the gateway, which half-closes towards its client.
    socket.on('end', () => this.transport.send({ msg: 'streamData', streamData: { streamId: id, channel: FROM_POD, data: Buffer.alloc(0) } }));
    socket.on('drain', () => {
      if (!this.pausedGateway) return;
      this.pausedGateway = false;
      this.transport.send({ msg: 'streamFlow', streamFlow: { streamId: id, paused: false } });
    });
    let error = '';
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code === 'ECONNREFUSED' ? `connection refused by the pod (nothing listens on the port)` : err.message));
    socket.on('close', () => this.finish(error));
  }

  /** Bytes from the gateway towards the pod; an empty chunk half-closes. */
  write(data: Buffer): void {
    if (data.length === 0) {
      this.socket.end();
      return;
    }
    this.socket.write(data);
    if (!this.pausedGateway && this.socket.writableLength > PAUSE_AT) {
      this.pausedGateway = true;
      this.transport.send({ msg: 'streamFlow', streamFlow: { streamId: this.id, paused: true } });
    }
  }

  flow(paused: boolean): void {
    this.gatewayPaused = paused;
    if (paused) this.socket.pause();
    else this.resume();
  }

  /** The gateway ended the stream: drop the connection, answer nothing more. */
  abort(): void {
    this.ended = true;
    this.forget();
    this.socket.destroy();
  }

  private resume(): void {
    if (!this.congested && !this.gatewayPaused) this.socket.resume();
  }

  private finish(error: string): void {
    if (this.ended) return;
    this.ended = true;
    this.forget();
    this.transport.send({ msg: 'streamEnd', streamEnd: { streamId: this.id, error } });
  }
}

export class AgentTunnels {
  private readonly tunnels = new Map<string, Tunnel>();

  constructor(
    private readonly transport: TunnelTransport,
    private readonly resolve: DialResolver,
    private readonly log: Logger,
  ) {}

  has(streamId: string): boolean {
    return this.tunnels.has(streamId);
  }

  get open(): number {
    return this.tunnels.size;
  }

  /** Connects to the pod's port; a pod this node does not run is refused with the stream's end. */
  dial(open: OpenStream): void {
    const streamId = open.streamId;
    let address: { host: string; port: number };
    try {
      if (!open.dial) throw new Error('a dial stream came without its port');
      address = this.resolve(open.podUid, open.dial.port);
    } catch (err) {
      this.log.info({ streamId, pod: open.podUid, reason: (err as Error).message }, 'dial refused');
      this.transport.send({ msg: 'streamEnd', streamEnd: { streamId, error: (err as Error).message } });
      return;
    }
    const socket = net.connect({ host: address.host, port: address.port, allowHalfOpen: true });
    socket.setNoDelay(true);
    this.tunnels.set(streamId, new Tunnel(streamId, socket, this.transport, () => this.tunnels.delete(streamId)));
  }

  /**
   * A connection a pod opened to a Service (after its ServiceDial went out): relayed like a dial
   * stream, with the pod's bytes on the same channel, once the gateway answers.
   */
  adopt(streamId: string, socket: net.Socket): void {
    this.tunnels.set(streamId, new Tunnel(streamId, socket, this.transport, () => this.tunnels.delete(streamId)));
  }

  data(streamId: string, data: Buffer): void {
    this.tunnels.get(streamId)?.write(data);
  }

  flow(streamId: string, paused: boolean): void {
    this.tunnels.get(streamId)?.flow(paused);
  }

  end(streamId: string): void {
    this.tunnels.get(streamId)?.abort();
  }

  /** The gateway connection dropped: every tunnel goes with it. */
  closeAll(): void {
    for (const tunnel of [...this.tunnels.values()]) tunnel.abort();
  }
}
