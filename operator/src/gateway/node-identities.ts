// Which certificate is the valid identity of each provider node, and which node names are taken.
//
// Every join records the issued certificate's serial in a Secret `lattice-node-<name>`. A
// connection is accepted only when its client certificate's serial is the recorded one, so
// revoking a node (`lattice node revoke NAME`) refuses its certificate at once, and an informer
// tells the gateway to drop the node's live stream.
//
// A node name is owned, as the Node authorizer has it for kubelets: a join may not take the name
// of a Node Lattice does not run (a kubelet's, with its pods and their Secrets), nor of a provider
// that joined already. Revoking leaves the Secret as a tombstone (the serial gone, the time of the
// revocation kept), so the next join under that name does not inherit the pods still bound there,
// or a database's volume affinity: an admin frees the name by deleting the tombstone.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isAlreadyExists, isNotFound } from '../kube/errors.js';
import { informer, type Cache } from '../kube/informer.js';
import { JoinRefused } from './join-tokens.js';
import { PROVIDER_LABEL } from './virtual-node.js';
import { textOf } from '../kube/secret-data.js';

export const NODE_IDENTITY_LABEL = 'lattice.dev/node-identity';
const PREFIX = 'lattice-node-';

export const identitySecretName = (nodeName: string) => PREFIX + nodeName;

export class NodeIdentities {
  private readonly informer: Cache<k8s.V1Secret>;

  constructor(
    kc: k8s.KubeConfig,
    private readonly core: k8s.CoreV1Api,
    private readonly namespace: string,
    onRevoked: (nodeName: string) => void,
    log: Logger,
  ) {
    this.informer = informer(
      kc,
      `/api/v1/namespaces/${namespace}/secrets`,
      () => core.listNamespacedSecret({ namespace, labelSelector: NODE_IDENTITY_LABEL }),
      log,
      { labelSelector: NODE_IDENTITY_LABEL },
    );
    const revoked = (secret: k8s.V1Secret) => {
      const node = secret.metadata?.labels?.[NODE_IDENTITY_LABEL];
      if (node) onRevoked(node);
    };
    this.informer.on('delete', revoked);
    this.informer.on('update', (secret) => {
      if (secret.data?.[REVOKED_AT]) revoked(secret);
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }

  /**
   * Throws JoinRefused when `nodeName` is not free to join under: held by a provider, revoked, or
   * the name of a Node Lattice does not run. Asked before a join uses up its token.
   */
  async checkAvailable(nodeName: string): Promise<void> {
    const secret = await this.core.readNamespacedSecret({ name: identitySecretName(nodeName), namespace: this.namespace }).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (secret) throw nameTaken(nodeName, secret, this.namespace);
    const node = await this.core.readNode({ name: nodeName }).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (node && node.metadata?.labels?.[PROVIDER_LABEL] !== 'true') {
      throw new JoinRefused(`a Node named "${nodeName}" exists in the cluster and is not a Lattice provider: pick another --name`);
    }
  }

  /** Records a new node's certificate; refuses a name another provider already holds. */
  async record(nodeName: string, serialNumber: string, notAfter: Date): Promise<void> {
    try {
      await this.core.createNamespacedSecret({
        namespace: this.namespace,
        body: {
          metadata: {
            name: identitySecretName(nodeName),
            labels: { [NODE_IDENTITY_LABEL]: nodeName, 'app.kubernetes.io/part-of': 'lattice' },
          },
          type: 'lattice.dev/node-identity',
          stringData: { serial: serialNumber, 'not-after': notAfter.toISOString() },
        },
      });
    } catch (err) {
      if (isAlreadyExists(err)) {
        const secret = await this.core.readNamespacedSecret({ name: identitySecretName(nodeName), namespace: this.namespace }).catch(() => undefined);
        throw nameTaken(nodeName, secret, this.namespace);
      }
      throw err;
    }
  }

  /**
   * The node's certificate renewed: `serialNumber` replaces `current`, only while `current` is still
   * the node's (a revocation meanwhile wins; of two renewals racing, the second conflicts).
   */
  async renewed(nodeName: string, current: string, serialNumber: string, notAfter: Date): Promise<void> {
    const name = identitySecretName(nodeName);
    const secret = await this.core.readNamespacedSecret({ name, namespace: this.namespace });
    if (!matches(secret, current)) throw new Error(`node "${nodeName}" was revoked or renewed meanwhile`);
    // As record() writes them; the resourceVersion read above makes this a compare-and-swap.
    const stringData = { serial: serialNumber, 'not-after': notAfter.toISOString() };
    await this.core.replaceNamespacedSecret({ name, namespace: this.namespace, body: { ...secret, stringData } });
  }

  /**
   * True when `serialNumber` is the current certificate of `nodeName`. The informer may not have
   * seen a join recorded a moment ago (an agent connects right after joining): what it does not
   * confirm is asked of the API before the connection is refused.
   */
  async isCurrent(nodeName: string, serialNumber: string): Promise<boolean> {
    if (matches(this.informer.get(identitySecretName(nodeName), this.namespace), serialNumber)) return true;
    try {
      return matches(await this.core.readNamespacedSecret({ name: identitySecretName(nodeName), namespace: this.namespace }), serialNumber);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

}

const REVOKED_AT = 'revoked-at';

function nameTaken(nodeName: string, secret: k8s.V1Secret | undefined, namespace: string): JoinRefused {
  const revokedAt = secret?.data?.[REVOKED_AT];
  if (revokedAt) {
    return new JoinRefused(
      `the node name "${nodeName}" was revoked at ${textOf(revokedAt)} and is not given out again: pick another --name ` +
        `(a cluster admin frees it, once its pods are gone, with: kubectl delete secret ${identitySecretName(nodeName)} -n ${namespace})`,
    );
  }
  return new JoinRefused(`the node name "${nodeName}" belongs to a provider that already joined: pick another --name, or revoke it first (lattice node revoke ${nodeName})`);
}

function matches(secret: k8s.V1Secret | undefined, serialNumber: string): boolean {
  const serial = secret?.data?.serial;
  return serial !== undefined && sameSerial(textOf(serial), serialNumber);
}

/**
 * Whether two hex serial numbers are the same integer. The one recorded at join is the random bytes
 * as drawn; the one a TLS peer presents (Node's getPeerCertificate) is the DER integer, whose leading
 * zero bytes are dropped: one join in 128 draws a leading zero byte.
 */
export function sameSerial(a: string, b: string): boolean {
  const canonical = (hex: string) => hex.toLowerCase().replace(/^(00)+/, '');
  return canonical(a) === canonical(b);
}

/**
 * Revokes a node: its certificate is refused from now on, and its name is tombstoned. False when no
 * node of that name is joined (or it was revoked already).
 */
export async function revokeNode(core: k8s.CoreV1Api, namespace: string, nodeName: string): Promise<boolean> {
  let secret: k8s.V1Secret;
  try {
    secret = await core.readNamespacedSecret({ name: identitySecretName(nodeName), namespace });
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
  if (secret.data?.[REVOKED_AT]) return false;
  // A replace at the version read: a join recorded meanwhile is not revoked unseen (a conflict).
  await core.replaceNamespacedSecret({
    name: identitySecretName(nodeName),
    namespace,
    body: { ...secret, data: { [REVOKED_AT]: Buffer.from(new Date().toISOString()).toString('base64') } },
  });
  return true;
}
