// One Docker bridge network per Kubernetes namespace: the pods of a namespace reach each other on
// it, and Docker isolates bridges from one another. A network is created with the first pod of its
// namespace and removed after the last, since Docker has address pools for a few dozen bridges only.
// Its bridge interface is named for Lattice's isolation rules (see isolation.ts), which are in
// place before the first network is created.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerMessage, dockerStatusCode, ignoreGone } from './docker-errors.js';
import { bridgeName, type HostIsolation } from './isolation.js';
import { LABEL, namespaceNetworkName } from './naming.js';
import { SerialQueue } from './serial-queue.js';

export class NamespaceNetworks {
  // Per namespace, so a creation and a removal of the same network never race.
  private readonly queues = new Map<string, SerialQueue>();

  constructor(
    private readonly docker: Docker,
    private readonly logger: Logger,
    private readonly isolation: HostIsolation,
  ) {}

  /**
   * The network of `namespace`, created if missing; returns its id. Agents sharing one Docker
   * engine may create it at the same moment, and Docker then keeps two networks of that name (it
   * no longer refuses duplicates): every agent settles on the oldest and removes its own extra, and
   * the id, unlike the name, is never ambiguous.
   */
  ensure(namespace: string): Promise<string> {
    const name = namespaceNetworkName(namespace);
    return this.queue(namespace).run(async () => {
      // Before any pod joins a network, adopted ones too (the rules are gone after a reboot).
      await this.isolation.ensure();
      const existing = await this.named(name);
      if (existing && (await this.isolated(existing, name))) return existing;
      let created: Docker.Network;
      try {
        created = await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { [LABEL.namespace]: namespace },
          Options: { 'com.docker.network.bridge.name': bridgeName(name) },
        });
      } catch (err) {
        // Another agent on this engine created it first (the bridge name is taken): use theirs.
        const theirs = await this.named(name);
        if (theirs) return theirs;
        throw err;
      }
      const keeper = (await this.named(name)) ?? created.id;
      if (keeper !== created.id) {
        await ignoreGone(this.docker.getNetwork(created.id).remove()).catch((err) =>
          this.logger.warn({ network: name, reason: dockerMessage(err) }, 'could not remove a duplicate namespace network'),
        );
        return keeper;
      }
      this.logger.info({ network: name, namespace }, 'created namespace network');
      return keeper;
    });
  }

  /**
   * Whether the network's bridge has the name the isolation rules match. One made by an agent of
   * before those rules is replaced while no container uses it, and kept (with a warning) if any does.
   */
  private async isolated(id: string, name: string): Promise<boolean> {
    const info = (await this.docker.getNetwork(id).inspect()) as Docker.NetworkInspectInfo;
    if (info.Options?.['com.docker.network.bridge.name'] === bridgeName(name)) return true;
    if (Object.keys(info.Containers ?? {}).length > 0) {
      this.logger.warn({ network: name }, 'namespace network predates pod isolation and is in use: its pods are not isolated until it is recreated');
      return true;
    }
    await ignoreGone(this.docker.getNetwork(id).remove());
    this.logger.info({ network: name }, 'replaced a namespace network made before pod isolation');
    return false;
  }

  /** The id of the oldest network called exactly `name` (the name filter also matches parts). */
  private async named(name: string): Promise<string | undefined> {
    const networks = (await this.docker.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name);
    networks.sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created) || a.Id.localeCompare(b.Id));
    return networks[0]?.Id;
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
        const id = await this.named(name);
        if (!id) return;
        await this.docker.getNetwork(id).remove();
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
