// Services for the pods of this node, wherever their replicas run. Each Service of a namespace
// has an address of its own on the namespace network, as a ClusterIP has: the agent puts it on the
// network's bridge (agent/src/runtime/networks.ts, service-addresses.ts) and listens there, one
// listener per port of that Service, and the pods' /etc/hosts (hosts.ts) names the Service at its
// address: `<service>`, `<service>.<namespace>`, `<service>.<namespace>.svc[.cluster.local]`. A
// connection becomes a ServiceDial stream for that Service: the gateway picks a ready replica and
// relays it through that replica's agent (protocol: agent.proto, ServiceDial). A Service gone
// takes its listeners, its address and its names with it.
//
// Only the namespace's own pods get through: a connection from outside the network's subnet is
// dropped (the isolation rules already keep other bridges from these addresses). The gateway tells
// the node only the Services of namespaces it runs pods of, and checks that again on each dial.
//
// Limits: a port below 1024 needs an agent allowed to bind it; a port the provider's machine
// already listens on for every address (0.0.0.0) cannot be bound again (logged); the host helper
// (an image with iproute2) must run for the addresses to exist, else the namespace's Services
// have no names (logged); a Service's address may change across an agent restart if its name's
// hash collided with another's; on a namespace network made before Services had addresses (no
// IPRange: networks.ts), an address Docker later gives a container moves its Service at the next
// change; TCP only. Agents sharing one Docker engine (tests) share the namespace network too: they
// give each Service the same address, one of them holds each listener and relays for all.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { Logger } from 'pino';
import type { AgentMessage, ServiceEntry } from '@lattice/protocol';
import type { ServiceAddresses } from '../runtime/networks.js';
import { cidrRange, ipToNumber } from '../runtime/service-addresses.js';
import type { AgentTunnels } from './tunnels.js';

export interface ServiceListenersOptions {
  tunnels: AgentTunnels;
  send(msg: AgentMessage): boolean;
  /** Whether the gateway connection is up (a Service connection goes nowhere without it). */
  connected(): boolean;
  /** Gives the namespace's Services their addresses on its network here; undefined while it has none. */
  addresses(namespace: string, names: string[]): Promise<ServiceAddresses | undefined>;
  /** The Services of a namespace changed: its pods' hosts files must be written again. */
  hostsChanged(namespace: string): void;
  log: Logger;
}

interface Listener {
  server: net.Server;
  service: string;
}

export class ServiceListeners {
  private services = new Map<string, ServiceEntry[]>();
  /** One change of a namespace's listeners at a time. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Per namespace: its Services' addresses, and their listeners by "<address>:<port>". */
  private readonly namespaces = new Map<string, { placed: ServiceAddresses; listeners: Map<string, Listener> }>();

  constructor(private readonly options: ServiceListenersOptions) {}

  /** The complete set of Services this node's pods may reach (ServiceSync). */
  async sync(entries: ServiceEntry[]): Promise<void> {
    const before = this.services;
    this.services = new Map();
    for (const entry of entries) this.services.set(entry.namespace, [...(this.services.get(entry.namespace) ?? []), entry]);
    const touched = new Set([...before.keys(), ...this.services.keys()]);
    for (const namespace of touched) {
      if (JSON.stringify(before.get(namespace)) === JSON.stringify(this.services.get(namespace))) continue;
      await this.listen(namespace);
      this.options.hostsChanged(namespace);
    }
  }

  /** The hosts lines of a namespace's Services, listening for them first (a pod is about to start). */
  async hostsFor(namespace: string): Promise<string[]> {
    await this.listen(namespace);
    const placed = this.namespaces.get(namespace)?.placed;
    if (!placed) return [];
    return (this.services.get(namespace) ?? []).flatMap(({ name }) => {
      const address = placed.addresses.get(name);
      return address ? [`${address}\t${name} ${name}.${namespace} ${name}.${namespace}.svc ${name}.${namespace}.svc.cluster.local`] : [];
    });
  }

  close(): void {
    for (const { listeners } of this.namespaces.values()) for (const { server } of listeners.values()) server.close();
    this.namespaces.clear();
  }

  /** Opens and closes the namespace's listeners to match its Services. */
  private listen(namespace: string): Promise<void> {
    const next = (this.queues.get(namespace) ?? Promise.resolve()).then(() => this.listenNow(namespace));
    this.queues.set(namespace, next.catch(() => undefined));
    return next;
  }

  private async listenNow(namespace: string): Promise<void> {
    const services = this.services.get(namespace) ?? [];
    let state = this.namespaces.get(namespace);
    // Nothing to place and nothing placed: no address to put on the bridge or take off it.
    if (!services.length && !state) return;
    const placed = await this.options.addresses(namespace, services.map((s) => s.name)).catch((err: Error) => {
      this.options.log.error({ namespace, err: err.message }, 'cannot give the Services addresses on the namespace network: they have no names in its pods');
      return undefined;
    });
    if (state && (!placed || placed.network !== state.placed.network)) {
      for (const { server } of state.listeners.values()) server.close();
      this.namespaces.delete(namespace);
      state = undefined;
    }
    if (!placed) return;
    if (!state) {
      state = { placed, listeners: new Map() };
      this.namespaces.set(namespace, state);
    }
    state.placed = placed;
    const wanted = new Map<string, { address: string; port: number; service: string }>();
    for (const service of services) {
      const address = placed.addresses.get(service.name);
      if (!address) {
        this.options.log.warn({ namespace, service: service.name }, 'no address left for a Service on the namespace network');
        continue;
      }
      for (const port of service.ports) wanted.set(`${address}:${port}`, { address, port, service: service.name });
    }
    for (const [key, listener] of state.listeners) {
      if (wanted.get(key)?.service !== listener.service) {
        listener.server.close();
        state.listeners.delete(key);
      }
    }
    const listeners = state.listeners;
    for (const [key, { address, port, service }] of wanted) {
      if (listeners.has(key)) continue;
      const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(namespace, service, port, socket));
      listeners.set(key, { server, service });
      await new Promise<void>((resolve) => {
        server.once('error', (err) => {
          this.options.log.warn({ namespace, service, port, address, err: err.message }, 'cannot listen for a Service');
          if (listeners.get(key)?.server === server) listeners.delete(key);
          resolve();
        });
        server.listen(port, address, () => resolve());
      });
    }
  }

  private accept(namespace: string, service: string, port: number, socket: net.Socket): void {
    const placed = this.namespaces.get(namespace)?.placed;
    if (!placed || !inSubnet(socket.remoteAddress ?? '', placed.subnet)) {
      this.options.log.warn({ namespace, port, from: socket.remoteAddress }, 'refused a Service connection from outside the namespace network');
      socket.destroy();
      return;
    }
    // Refused at once rather than left hanging until the gateway is back.
    if (!this.options.connected()) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const streamId = randomUUID();
    this.options.send({ msg: 'serviceDial', serviceDial: { streamId, namespace, service, port } });
    this.options.tunnels.adopt(streamId, socket);
  }
}

/** Whether an IPv4 address (possibly IPv4-mapped) is in a CIDR subnet. */
export function inSubnet(address: string, cidr: string): boolean {
  const ip = address.replace(/^::ffff:/, '');
  const range = cidrRange(cidr);
  if (!range || !net.isIPv4(ip)) return false;
  const n = ipToNumber(ip);
  return n >= range.first && n <= range.last;
}
