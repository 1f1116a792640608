// Join tokens: short-lived, use-limited secrets a provider trades for a node certificate.
//
// A token reads `lt1.<id>.<secret>.<ca-sha256>`: the id names the Secret that stores it, the
// secret proves possession, and the CA fingerprint lets the agent verify the gateway before it
// trusts it with anything (as kubeadm's discovery hash does). Each token is a Secret of type
// lattice.dev/join-token in the gateway's namespace; every successful join bumps its use count
// with optimistic concurrency, so two agents racing for the last use cannot both win.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { isConflict, isNotFound } from '../kube/errors.js';
import { secretText } from '../kube/secret-data.js';

export const JOIN_TOKEN_SECRET_TYPE = 'lattice.dev/join-token';
const PREFIX = 'lattice-join-';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const TOKEN_PATTERN = /^lt1\.([a-z0-9]{6})\.([a-z0-9]{24})\.([0-9a-f]{64})$/;

export interface ParsedToken {
  id: string;
  secret: string;
  caFingerprint: string;
}

export function parseJoinToken(token: string): ParsedToken | undefined {
  const m = TOKEN_PATTERN.exec(token.trim());
  return m ? { id: m[1]!, secret: m[2]!, caFingerprint: m[3]! } : undefined;
}

function randomString(length: number): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** Why a join was refused, in words the provider can act on. */
export class JoinRefused extends Error {}

const StoredToken = z.object({
  secret: z.string(),
  expiration: z.iso.datetime(),
  'usage-limit': z.coerce.number().int().min(1),
  uses: z.coerce.number().int().min(0),
  description: z.string().optional(),
});

/** A token as `lattice token list` shows it: never its secret. */
export interface ListedToken {
  id: string;
  expiration: string;
  uses: number;
  usageLimit: number;
  description?: string;
}


export interface CreatedToken {
  token: string;
  id: string;
  expiration: Date;
  usageLimit: number;
}

export class JoinTokens {
  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly namespace: string,
  ) {}

  async create(options: { caFingerprint: string; ttlSeconds: number; usageLimit: number; description?: string }): Promise<CreatedToken> {
    const id = randomString(6);
    const secret = randomString(24);
    const expiration = new Date(Date.now() + options.ttlSeconds * 1000);
    await this.core.createNamespacedSecret({
      namespace: this.namespace,
      body: {
        metadata: { name: PREFIX + id, labels: { 'app.kubernetes.io/part-of': 'lattice' } },
        type: JOIN_TOKEN_SECRET_TYPE,
        stringData: {
          secret,
          expiration: expiration.toISOString(),
          'usage-limit': String(options.usageLimit),
          uses: '0',
          ...(options.description ? { description: options.description } : {}),
        },
      },
    });
    return { token: `lt1.${id}.${secret}.${options.caFingerprint}`, id, expiration, usageLimit: options.usageLimit };
  }

  /** The tokens there are, expired and used-up ones too, oldest first. */
  async list(): Promise<ListedToken[]> {
    const secrets = await this.core.listNamespacedSecret({ namespace: this.namespace, fieldSelector: `type=${JOIN_TOKEN_SECRET_TYPE}` });
    return secrets.items
      .filter((s) => s.metadata?.name?.startsWith(PREFIX))
      .sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)))
      .flatMap((s) => {
        const data = StoredToken.safeParse(secretText(s));
        if (!data.success) return [];
        const { expiration, uses, description } = data.data;
        return [{ id: s.metadata!.name!.slice(PREFIX.length), expiration, uses, usageLimit: data.data['usage-limit'], ...(description ? { description } : {}) }];
      });
  }

  /** Revokes a token: no join is accepted with it from now on. False when there is none of that id. */
  async revoke(id: string): Promise<boolean> {
    try {
      await this.core.deleteNamespacedSecret({ name: PREFIX + id, namespace: this.namespace });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Checks the token and counts one use, or throws JoinRefused saying why. */
  async consume(token: string, now = new Date()): Promise<void> {
    const parsed = parseJoinToken(token);
    if (!parsed) throw new JoinRefused('the join token is malformed: expected lt1.<id>.<secret>.<ca-hash>, as `lattice token create` prints it');
    for (let attempt = 0; attempt < 5; attempt++) {
      let stored: k8s.V1Secret;
      try {
        stored = await this.core.readNamespacedSecret({ name: PREFIX + parsed.id, namespace: this.namespace });
      } catch (err) {
        if (isNotFound(err)) throw new JoinRefused('the join token is unknown or was revoked: ask the cluster operator for a new one');
        throw err;
      }
      const data = StoredToken.safeParse(secretText(stored));
      if (stored.type !== JOIN_TOKEN_SECRET_TYPE || !data.success) {
        throw new JoinRefused('the join token is unknown or was revoked: ask the cluster operator for a new one');
      }
      const expected = Buffer.from(data.data.secret);
      const given = Buffer.from(parsed.secret);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        throw new JoinRefused('the join token is unknown or was revoked: ask the cluster operator for a new one');
      }
      if (new Date(data.data.expiration) <= now) {
        throw new JoinRefused(`the join token expired at ${data.data.expiration}: ask the cluster operator for a new one`);
      }
      if (data.data.uses >= data.data['usage-limit']) {
        throw new JoinRefused(`the join token was already used ${data.data.uses} time(s), its limit: ask for a new one`);
      }
      try {
        await this.core.replaceNamespacedSecret({
          name: PREFIX + parsed.id,
          namespace: this.namespace,
          body: { ...stored, data: { ...stored.data, uses: Buffer.from(String(data.data.uses + 1)).toString('base64') } },
        });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err; // someone else used it meanwhile: read again
      }
    }
    throw new JoinRefused('the join token is being used by many agents at once; try again');
  }
}
