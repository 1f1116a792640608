// Caps on the public ingress's connections, so that one client cannot hold them all (nginx's
// limit_conn): at most `perClient` open at once from one address, and `total` in all. Counted on
// the TCP connection, before TLS, for HTTPS and public TCP ports alike; a connection over a cap
// is closed at once, and counted in lattice_ingress_refused_total.
import type net from 'node:net';

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
