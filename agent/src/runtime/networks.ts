// One Docker bridge network per Kubernetes namespace: the pods of a namespace reach each other on
// it, and Docker isolates bridges from one another. A network is created with the first pod of its
// namespace and removed after the last, since Docker has address pools for a few dozen bridges only.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerMessage, dockerStatusCode, isNotFound } from './docker-errors.js';
import { LABEL, namespaceNetworkName } from './naming.js';
import { SerialQueue } from './serial-queue.js';

export class NamespaceNetworks {
  // Per namespace, so a creation and a removal of the same network never race.
  private readonly queues = new Map<string, SerialQueue>();

  constructor(
    private readonly docker: Docker,
    private readonly logger: Logger,
  ) {}

  /** The network of `namespace`, created if missing; returns its name. */
  ensure(namespace: string): Promise<string> {
    const name = namespaceNetworkName(namespace);
    return this.queue(namespace).run(async () => {
      try {
        await this.docker.getNetwork(name).inspect();
        return name;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { [LABEL.namespace]: namespace },
      });
      this.logger.info({ network: name, namespace }, 'created namespace network');
      return name;
    });
  }

  /**
   * Removes the namespace's network unless `inUse()` still says a pod of it lives here (checked in
   * the queue, after any pending creation). Docker refuses while containers are attached (another
   * node's agent sharing the engine): that is left as is.
   */
  release(namespace: string, inUse: () => boolean): Promise<void> {
    const name = namespaceNetworkName(namespace);
    return this.queue(namespace).run(async () => {
      if (inUse()) return;
      try {
        await this.docker.getNetwork(name).remove();
        this.logger.info({ network: name, namespace }, 'removed namespace network');
      } catch (err) {
        const code = dockerStatusCode(err);
        if (code !== 404 && code !== 403 && code !== 409) throw err;
        if (code !== 404) this.logger.debug({ network: name, reason: dockerMessage(err) }, 'namespace network still in use');
      }
    });
  }

  private queue(namespace: string): SerialQueue {
    let queue = this.queues.get(namespace);
    if (!queue) {
      queue = new SerialQueue();
      this.queues.set(namespace, queue);
    }
    return queue;
  }
}
