// One Docker bridge network per Kubernetes namespace: the pods of a namespace reach each other on
// it, and Docker isolates bridges from one another. A network is created with the first pod of its
// namespace and removed after the last, since Docker has address pools for a few dozen bridges only.
// Its bridge interface is named for Lattice's isolation rules (see isolation.ts), which are in
// place before the first network is created. Its subnet's upper half is kept from Docker's IPAM:
// there the agent puts each Service of the namespace at an address of its own, on the bridge
// (service-addresses.ts), for its Service listeners (agent/src/tunnels/services.ts).
import { randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerMessage, dockerStatusCode, ignoreGone } from './docker-errors.js';
import type { HostHelper } from './host-helper.js';
import { bridgeName, type HostIsolation } from './isolation.js';
import { LABEL, namespaceNetworkName } from './naming.js';
import { SerialQueue } from './serial-queue.js';
import { allocateAddresses, bridgeAddressesScript, containerRange, serviceRange, servicesReserved } from './service-addresses.js';

/** The Services of a namespace placed on its network: each name's address there, and the subnet. */
export interface ServiceAddresses {
  /** The network's id: a new network (after the namespace had no pod here) means new listeners. */
  network: string;
  subnet: string;
  addresses: Map<string, string>;
}

/** A network's IPv4 addressing, as Docker's IPAM reports and takes it. */
interface SubnetConfig {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
}

/** The network's IPv4 addressing (Docker may list an IPv6 one beside it). */
const ipv4Config = (info: Docker.NetworkInspectInfo | undefined): SubnetConfig | undefined =>
  ((info?.IPAM?.Config ?? []) as SubnetConfig[]).find((c) => c.Subnet && !c.Subnet.includes(':'));

/** Per namespace network: the Services' addresses it has. */
interface Placement {
  network: string;
  addresses: Map<string, string>;
}

export class NamespaceNetworks {
  // Per namespace, so a creation and a removal of the same network never race.
  private readonly queues = new Map<string, SerialQueue>();
  private readonly placements = new Map<string, Placement>();
  /** Per network name: the subnet it had when this agent last created it. */
  private readonly subnets = new Map<string, SubnetConfig>();

  constructor(
    private readonly docker: Docker,
    private readonly logger: Logger,
    private readonly isolation: HostIsolation,
    private readonly helper: HostHelper,
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
      let created: Docker.Network | undefined;
      for (let attempt = 1; !created; attempt++) {
        try {
          created = await this.create(name, namespace);
        } catch (err) {
          // Another agent on this engine created it first (the bridge name is taken): use theirs.
          const theirs = await this.named(name);
          if (theirs) return theirs;
          // Another network took the subnet (since the probe, or since this network was last here): probe again.
          if (attempt < 3 && /overlap/i.test(dockerMessage(err))) continue;
          throw err;
        }
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
   * Creates the network with its subnet's lower half for containers. Docker chooses a free subnet
   * from its address pools only for a network created without one, and takes an IPRange only with
   * its subnet: a probe network (no bridge name, removed at once) learns the subnet Docker would
   * give, and the network is created with it. The subnet is remembered, so that the network of a
   * namespace whose pods come and go is created again without a probe (about 300 ms).
   */
  private async create(name: string, namespace: string): Promise<Docker.Network> {
    const config = this.subnets.get(name) ?? (await this.probeSubnet(name));
    const ipRange = config?.Subnet ? containerRange(config.Subnet) : undefined;
    try {
      const network = await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { [LABEL.namespace]: namespace },
        Options: { 'com.docker.network.bridge.name': bridgeName(name) },
        ...(config?.Subnet && ipRange ? { IPAM: { Driver: 'default', Config: [{ Subnet: config.Subnet, Gateway: config.Gateway, IPRange: ipRange }] } } : {}),
      });
      if (config) this.subnets.set(name, config);
      return network;
    } catch (err) {
      // Perhaps another network holds the subnet now: the next attempt probes again.
      this.subnets.delete(name);
      throw err;
    }
  }

  /** The IPv4 subnet Docker would give a new network now. */
  private async probeSubnet(name: string): Promise<SubnetConfig | undefined> {
    const probe = await this.docker.createNetwork({ Name: `${name}-probe-${randomUUID().slice(0, 8)}`, Driver: 'bridge', Labels: { 'lattice.dev/role': 'subnet-probe' } });
    try {
      const info = (await probe.inspect()) as Docker.NetworkInspectInfo;
      return ipv4Config(info);
    } finally {
      await ignoreGone(probe.remove());
    }
  }

  /**
   * Places the Services `names` of the namespace on its network (undefined while it has none
   * here): an address each in the upper half of its subnet, put on its bridge by the host helper
   * (and those of Services gone taken off). A network made before Services had addresses of their
   * own gives Docker all its subnet: there the addresses are those no container has, in the upper
   * half, which Docker's IPAM reaches last (logged once).
   */
  serviceAddresses(namespace: string, names: string[]): Promise<ServiceAddresses | undefined> {
    const name = namespaceNetworkName(namespace);
    return this.queue(namespace).run(async () => {
      const id = await this.named(name);
      const info = id ? ((await this.docker.getNetwork(id).inspect()) as Docker.NetworkInspectInfo) : undefined;
      const config = ipv4Config(info);
      const range = config?.Subnet ? serviceRange(config.Subnet) : undefined;
      if (!id || !info || !config?.Subnet || !range) {
        this.placements.delete(namespace);
        return undefined;
      }
      let placement = this.placements.get(namespace);
      if (placement?.network !== id) {
        placement = { network: id, addresses: new Map() };
        this.placements.set(namespace, placement);
        if (!servicesReserved(config.Subnet, config.IPRange)) {
          this.logger.warn({ network: name, subnet: config.Subnet }, 'namespace network predates Service addresses: they are taken where no container is until it is recreated (after its last pod here)');
        }
      }
      const taken = [config.Gateway ?? '', ...Object.values(info.Containers ?? {}).map((c) => c.IPv4Address.split('/')[0] ?? '')].filter(Boolean);
      const addresses = allocateAddresses(names, range, taken, placement.addresses);
      // Docker's own bridge name for a network made before the isolation rules (see isolated()).
      const bridge = info.Options?.['com.docker.network.bridge.name'] ?? `br-${id.slice(0, 12)}`;
      // The agent shares the host's network (it listens there): the bridge's addresses are its to
      // read, and the helper runs only when they differ (after an agent restart, mostly not). A
      // bridge without containers is down, and Node lists no address of an interface that is down.
      const wanted = [...addresses.values()].sort();
      const listed = networkInterfaces()[bridge];
      const present = (listed ?? []).filter((a) => a.family === 'IPv4' && a.netmask === '255.255.255.255').map((a) => a.address);
      if (!listed || present.sort().join(' ') !== wanted.join(' ')) {
        await this.helper.run(bridgeAddressesScript(bridge, wanted), 'service-addresses-helper');
        this.logger.info({ network: name, services: Object.fromEntries(addresses) }, 'Service addresses on the namespace network');
      }
      placement.addresses = addresses;
      return { network: id, subnet: config.Subnet, addresses };
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
