// Signed-in users: an opaque, random session id (the only thing the browser holds, in an httpOnly
// cookie) mapped to the user's Kubernetes token in this process's memory. A restart signs
// everyone out, which is the safe direction for a credential store.
import { randomBytes } from 'node:crypto';

export interface Session {
  token: string;
  username: string;
  expiresAt: number;
}

/** How long a sign-in lasts; the token's own expiry may end it sooner (the apiserver says 401). */
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  create(token: string, username: string): string {
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, { token, username, expiresAt: Date.now() + SESSION_TTL_MS });
    return id;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session && session.expiresAt < Date.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }
}
