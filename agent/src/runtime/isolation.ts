// Keeps pods off the provider's own network. Docker isolates one bridge from another (so one
// namespace's pods never reach another's), but lets every container reach the host itself (the
// bridge's gateway address and every other address of the machine, with whatever listens there:
// the gateway's admin and kubelet ports when they run on it, the provider's own services) and,
// through the host's routes, its LAN and any private range. The stranger's code in a pod must
// reach none of these, only its own namespace and the internet.
//
// How: every namespace bridge gets a name with one prefix (`lt-`, see bridgeName), and a fixed
// set of iptables rules matches that prefix: packets a Lattice bridge sends to the host (INPUT)
// are refused unless they answer a connection the host opened (the agent's probes, tunnels and
// tailnet relays dial pods), and forwarded packets towards private, link-local, shared (CGNAT,
// tailnet) and loopback ranges are refused unless they stay on a Lattice bridge (Docker's own
// isolation rules decide between bridges). Why this way:
// - one rule set for all bridges, installed before any namespace network exists: no window in
//   which a pod runs on a bridge that has no rules yet, and nothing to do per network;
// - in DOCKER-USER (the chain Docker leaves to its users and evaluates first) and INPUT, which
//   Docker never flushes, rather than Docker's own chains;
// - set by a short-lived helper container (host-helper.ts), since the agent itself need not run
//   as root, only hold the Docker socket;
// - idempotent and atomic: the two chains are rewritten in one iptables-restore transaction, the
//   jumps to them added only if missing.
// The rules stay when the agent stops or its last network goes: containers keep running across
// an agent restart (they are adopted), several agents may share one engine, and rules matching
// only `lt-` interfaces are inert while no such bridge exists.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { HostHelper } from './host-helper.js';

const PREFIX = 'lt-';

/** Linux allows 15 characters in an interface name: the prefix and 12 of a hash of the network. */
export function bridgeName(networkName: string): string {
  return PREFIX + createHash('sha256').update(networkName).digest('hex').slice(0, 12);
}

/** Where a pod may never send a new connection, unless it stays on a Lattice bridge. */
export const BLOCKED_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10', // shared address space: carrier-grade NAT, tailnets
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, cloud metadata services
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
] as const;

const FORWARD_CHAIN = 'LATTICE-ISOLATION';
const INPUT_CHAIN = 'LATTICE-HOST';

/** The shell script the helper runs: idempotent, fails on the first error. */
export function isolationScript(): string {
  const bridges = `${PREFIX}+`;
  const reject = (match: string) => [`-A ${match} -p tcp -j REJECT --reject-with tcp-reset`, `-A ${match} -j REJECT --reject-with icmp-port-unreachable`];
  // Both chains in one iptables-restore transaction: declaring a chain flushes it, and --noflush
  // leaves every other chain alone. Flushing and appending rule by rule let two agents starting
  // together (they share the engine in tests, and the rules) interleave their rules: a REJECT
  // ahead of the ACCEPT of answers cut every pod off from the host's probes.
  const rules = [
    '*filter',
    `:${FORWARD_CHAIN} - [0:0]`,
    `:${INPUT_CHAIN} - [0:0]`,
    `-A ${FORWARD_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    `-A ${FORWARD_CHAIN} -o ${bridges} -j RETURN`,
    ...BLOCKED_RANGES.flatMap((range) => reject(`${FORWARD_CHAIN} -d ${range}`)),
    `-A ${INPUT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    // The agent's Service listeners (agent/src/tunnels/services.ts), bound to the Services'
    // addresses the agent puts on a bridge (networks.ts): reachable from that bridge only
    // (--limit-iface-in: another bridge's pods are refused by the rule after), and only sockets
    // bound to such an address (the socket match ignores listeners bound to every address, as a
    // provider's own are).
    `-A ${INPUT_CHAIN} -p tcp -m addrtype --dst-type LOCAL --limit-iface-in -m socket -j ACCEPT`,
    ...reject(INPUT_CHAIN),
    'COMMIT',
  ];
  return [
    'set -e',
    // The helper must write the tables Docker uses: nftables unless Docker's chain is only in the
    // legacy ones (listing nftables first leaves the legacy tables unloaded where unused).
    'if iptables-nft -n -L DOCKER-USER >/dev/null 2>&1 || ! iptables-legacy -n -L DOCKER-USER >/dev/null 2>&1; then IPT=iptables-nft; else IPT=iptables-legacy; fi',
    `"$IPT-restore" --noflush <<'RULES'\n${rules.join('\n')}\nRULES`,
    // DOCKER-USER exists once Docker has started; it is created here if not (Docker keeps it).
    '$IPT -N DOCKER-USER 2>/dev/null || true',
    `$IPT -C DOCKER-USER -i ${bridges} -j ${FORWARD_CHAIN} 2>/dev/null || $IPT -I DOCKER-USER 1 -i ${bridges} -j ${FORWARD_CHAIN}`,
    `$IPT -C INPUT -i ${bridges} -j ${INPUT_CHAIN} 2>/dev/null || $IPT -I INPUT 1 -i ${bridges} -j ${INPUT_CHAIN}`,
  ].join('\n');
}

/** Installs the rules once per agent process (again after a failure); every network waits for it. */
export class HostIsolation {
  private installed: Promise<void> | undefined;

  constructor(
    private readonly helper: HostHelper,
    private readonly logger: Logger,
  ) {}

  ensure(): Promise<void> {
    this.installed ??= this.install().catch((err: unknown) => {
      this.installed = undefined;
      throw new Error(`could not isolate pods from this machine's network (iptables helper ${this.helper.image}): ${(err as Error).message}`);
    });
    return this.installed;
  }

  private async install(): Promise<void> {
    await this.helper.run(isolationScript(), 'isolation-helper');
    this.logger.info({ bridges: `${PREFIX}*`, image: this.helper.image }, 'pods are isolated from the host and private networks');
  }
}
