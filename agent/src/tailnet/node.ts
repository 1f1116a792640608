// One pod's node on its consumer's tailnet: a `lattice-tailnet` process (a tsnet node, built by
// hack/build-tools from hack/tools/tailscale) that listens on the pod's tailnet ports and relays
// each connection to the pod's address on its namespace bridge. It needs no root and no TUN
// device, and answers no port it was not given (see why in its source).
import readline from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import type { Logger } from 'pino';
import { z } from 'zod';

export interface TailnetNodeSpec {
  /** The coordination server (Tailscale's, or the consumer's headscale). */
  loginServer: string;
  /** Secret: passed in the environment, never on the command line, never logged. */
  authKey: string;
  hostname: string;
  /** Each tailnet port and the host:port it is relayed to. */
  forwards: { port: number; target: string }[];
  /** The node's state (its key, hence its address) lives here across restarts. */
  stateDir: string;
}

/** The line lattice-tailnet prints once it is on the tailnet. */
const Joined = z.object({ ips: z.array(z.string().min(1)).min(1), dnsName: z.string() });
export type Joined = z.infer<typeof Joined>;

/** lattice-tailnet is not installed where the agent looks for it. */
export class TailnetBinaryMissing extends Error {}

export interface RunningNode {
  joined: Joined;
  /** Resolves when the process ends (stopped, or died). */
  exited: Promise<void>;
  stop(): void;
}

/**
 * Starts the node and resolves once it is on the tailnet; rejects (with what it said) if it
 * exits before, e.g. a refused auth key or an unreachable login server.
 */
export async function startTailnetNode(binary: string, spec: TailnetNodeSpec, logger: Logger): Promise<RunningNode> {
  // stdin stays open while the agent lives: a killed agent's nodes leave with it, so the next
  // agent's node for the same pod never meets a twin with the same key.
  const args = ['-dir', spec.stateDir, '-hostname', spec.hostname, '-control-url', spec.loginServer, '-exit-with-stdin'];
  for (const f of spec.forwards) args.push('-forward', `${f.port}=${f.target}`);
  const child: ResultPromise = execa(binary, args, {
    env: { TS_AUTHKEY: spec.authKey },
    stdin: 'pipe',
    reject: false,
    // Killed with the agent: the pod's containers outlive an agent restart, its tailnet node is
    // started again (same state, same address) when the pod is given back to the new agent.
    cleanup: true,
  });
  const said: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    said.push(line);
    if (said.length > 20) said.shift();
    logger.debug({ hostname: spec.hostname, line }, 'lattice-tailnet');
  });
  const exited = child.then(() => undefined);
  const joined = new Promise<Joined>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (line) => {
      const parsed = Joined.safeParse(JSON.parse(line));
      if (parsed.success) resolve(parsed.data);
      else reject(new Error(`lattice-tailnet printed an unexpected line: ${line.slice(0, 200)}`));
    });
    child.then((result) => {
      const why = said.slice(-3).join(' | ') || `exit code ${result.exitCode}`;
      if ((result as { code?: string }).code === 'ENOENT') {
        reject(new TailnetBinaryMissing(`${binary} is not installed on this provider; install it (hack/build-tools builds it into bin/) to expose ports on a tailnet`));
      } else {
        reject(new Error(`could not join the tailnet at ${spec.loginServer}: ${why}`));
      }
    }, reject);
  });
  try {
    return { joined: await joined, exited, stop: () => child.kill('SIGTERM') };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
