// Closing a hijacked connection without trusting the peer to close its side: some clients keep
// it open after the last answer (the apiserver's SPDY client does after a refused upgrade).
import type { Duplex } from 'node:stream';

const PEER_CLOSE_GRACE_MS = 5_000;

/** Writes the last bytes, closes our side, and destroys the socket if the peer lingers. */
export function endThenDestroy(socket: Duplex, last: Buffer | string): void {
  socket.end(last);
  setTimeout(() => socket.destroy(), PEER_CLOSE_GRACE_MS).unref();
}
