// Which certificate is the valid identity of each provider node.
//
// Every join records the issued certificate's serial in a Secret `lattice-node-<name>`. A
// connection is accepted only when its client certificate's serial is the recorded one, so
// revoking a node (deleting that Secret: `lattice node revoke NAME`) refuses its certificate at
// once, and an informer tells the gateway to drop the node's live stream.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isAlreadyExists, isNotFound } from '../kube/errors.js';
import { informer, type Cache } from '../kube/informer.js';
import { JoinRefused } from './join-tokens.js';

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
    this.informer.on('delete', (secret) => {
      const node = secret.metadata?.labels?.[NODE_IDENTITY_LABEL];
      if (node) onRevoked(node);
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
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
        throw new JoinRefused(
          `the node name "${nodeName}" belongs to a provider that already joined: pick another --name, or revoke it first (lattice node revoke ${nodeName})`,
        );
      }
      throw err;
    }
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

function matches(secret: k8s.V1Secret | undefined, serialNumber: string): boolean {
  const serial = secret?.data?.serial;
  return serial !== undefined && sameSerial(Buffer.from(serial, 'base64').toString(), serialNumber);
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

/** Revokes a node: its certificate is refused from now on. False when it was not joined. */
export async function revokeNode(core: k8s.CoreV1Api, namespace: string, nodeName: string): Promise<boolean> {
  try {
    await core.deleteNamespacedSecret({ name: identitySecretName(nodeName), namespace });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
