// Services for the pods of this node, wherever their replicas run. For each namespace network the
// agent manages, it listens on the network's own gateway address, one listener per Service port,
// and the pods' /etc/hosts (hosts.ts) names every Service of the namespace at that address:
// `<service>`, `<service>.<namespace>`, `<service>.<namespace>.svc[.cluster.local]`. A connection
// becomes a ServiceDial stream: the gateway picks a ready replica and relays it through that
// replica's agent (protocol: agent.proto, ServiceDial).
//
// Only the namespace's own pods get through: a connection from outside the network's subnet is
// dropped (the isolation rules already keep other bridges from this address). The gateway tells
// the node only the Services of namespaces it runs pods of, and checks that again on each dial.
//
// Limits: one listener per port and namespace, so two Services of a namespace with the same port
// share it (the first by name wins, the other's name reaches it too); a port below 1024 needs an
// agent allowed to bind it; a port the provider's machine already listens on for every address
// (0.0.0.0) cannot be bound again (logged); TCP only. Agents sharing one Docker engine (tests)
// share the namespace network too: one of them holds each listener, and relays for all.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { Logger } from 'pino';
import type { AgentMessage, ServiceEntry } from '@lattice/protocol';
import type { AgentTunnels } from './tunnels.js';

/** A namespace network as Docker has it: its gateway address (this host's) and its subnet. */
export interface NamespaceNetwork {
  gateway: string;
  subnet: string;
}

export interface ServiceListenersOptions {
  tunnels: AgentTunnels;
  send(msg: AgentMessage): boolean;
  /** Whether the gateway connection is up (a Service connection goes nowhere without it). */
  connected(): boolean;
  /** The namespace's network on this node, or undefined while it has none. */
  network(namespace: string): Promise<NamespaceNetwork | undefined>;
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
  /** Per namespace: its network, and its listeners by port. */
  private readonly namespaces = new Map<string, { network: NamespaceNetwork; listeners: Map<number, Listener> }>();

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
    const network = this.namespaces.get(namespace)?.network;
    if (!network) return [];
    return (this.services.get(namespace) ?? []).map(
      ({ name }) => `${network.gateway}\t${name} ${name}.${namespace} ${name}.${namespace}.svc ${name}.${namespace}.svc.cluster.local`,
    );
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
    const wanted = new Map<number, string>();
    for (const service of [...(this.services.get(namespace) ?? [])].sort((a, b) => a.name.localeCompare(b.name))) {
      for (const port of service.ports) {
        const holder = wanted.get(port);
        if (holder === undefined) wanted.set(port, service.name);
        else this.options.log.warn({ namespace, port, service: service.name, holder }, 'two Services of a namespace use one port: the first by name gets it');
      }
    }
    let state = this.namespaces.get(namespace);
    const network = wanted.size ? await this.options.network(namespace) : undefined;
    if (state && (!network || network.gateway !== state.network.gateway)) {
      for (const { server } of state.listeners.values()) server.close();
      this.namespaces.delete(namespace);
      state = undefined;
    }
    if (!network) return;
    if (!state) {
      state = { network, listeners: new Map() };
      this.namespaces.set(namespace, state);
    }
    for (const [port, listener] of state.listeners) {
      if (!wanted.has(port)) {
        listener.server.close();
        state.listeners.delete(port);
      }
    }
    for (const [port, service] of wanted) {
      const existing = state.listeners.get(port);
      if (existing) {
        existing.service = service;
        continue;
      }
      const listener: Listener = { server: net.createServer({ allowHalfOpen: true }, (socket) => this.accept(namespace, port, listener.service, socket)), service };
      state.listeners.set(port, listener);
      await new Promise<void>((resolve) => {
        listener.server.once('error', (err) => {
          this.options.log.warn({ namespace, port, address: network.gateway, err: err.message }, 'cannot listen for a Service');
          state.listeners.delete(port);
          resolve();
        });
        listener.server.listen(port, network.gateway, () => resolve());
      });
    }
  }

  private accept(namespace: string, port: number, service: string, socket: net.Socket): void {
    const network = this.namespaces.get(namespace)?.network;
    if (!network || !inSubnet(socket.remoteAddress ?? '', network.subnet)) {
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
  const [base, bits] = cidr.split('/');
  const toNumber = (ip: string) => ip.replace(/^::ffff:/, '').split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const prefix = Number(bits);
  if (!base || !net.isIPv4(address.replace(/^::ffff:/, '')) || !net.isIPv4(base) || !(prefix >= 0 && prefix <= 32)) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(toNumber(address) / size) === Math.floor(toNumber(base) / size);
}
