// The agent's local admin API (loopback), read by the app: connection state, the pods bound here,
// and what the node has earned. Every answer is parsed: the agent is another process.
import { z } from 'zod';
import { EarningsSchema } from '@lattice/protocol';
import { ConnectionStateSchema, LocalPodSchema, type ConnectionState, type Earnings, type LocalPod } from '../contract.js';

const StatusSchema = z.object({ node: z.string(), connection: ConnectionStateSchema });
const PodsSchema = z.object({ pods: z.array(LocalPodSchema) });
const EarningsAnswerSchema = z.object({ earnings: EarningsSchema.nullable() });

export interface AgentView {
  connection: ConnectionState;
  pods: LocalPod[];
  earnings: Earnings | null;
}

async function get<T>(base: string, p: string, schema: z.ZodType<T>): Promise<T> {
  const res = await fetch(`${base}${p}`, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`the agent answered ${p} with HTTP ${res.status}`);
  return schema.parse(await res.json());
}

/** One consistent read of the agent's admin API. */
export async function readAgent(adminUrl: string): Promise<AgentView> {
  const [status, pods, earnings] = await Promise.all([
    get(adminUrl, '/status', StatusSchema),
    get(adminUrl, '/pods', PodsSchema),
    get(adminUrl, '/earnings', EarningsAnswerSchema),
  ]);
  return { connection: status.connection, pods: pods.pods, earnings: earnings.earnings };
}
