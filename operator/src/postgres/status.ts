// What an instance reports: its Ready condition from the database itself (the pod's readiness
// probe connects and runs a query), Degraded when PostgreSQL rejects spec.parameters, and where
// to connect.
import type * as k8s from '@kubernetes/client-node';
import type { PostgresInstance, PostgresInstanceStatus } from '@lattice/crds';
import type { ConditionUpdate } from '../controller/conditions.js';
import { POSTGRES_PORT, connectionSecretName, serviceHost } from './connection.js';

export const READY = 'Ready';
export const DEGRADED = 'Degraded';

export interface Verdict extends ConditionUpdate {
  /** Told as a Warning event. */
  warning?: boolean;
}

export interface Assessment {
  status: Omit<PostgresInstanceStatus, 'conditions' | 'observedGeneration'>;
  conditions: Verdict[];
}

/** Whether the desired settings are live: checked and applied in the running server, or not. */
export type SettingsVerdict = { result: 'applied' } | { result: 'invalid'; message: string } | { result: 'unchecked' };

/** Nothing can run: an unreadable spec, a refused change. */
export function failed(reason: string, message: string): Assessment {
  return {
    status: { phase: 'Failed' },
    conditions: [
      { type: READY, status: 'False', reason, message },
      { type: DEGRADED, status: 'True', reason, message, warning: true },
    ],
  };
}

/** Something the instance needs does not exist yet (the password Secret). */
export function waiting(reason: string, message: string): Assessment {
  return { status: { phase: 'Pending' }, conditions: [{ type: READY, status: 'False', reason, message, warning: true }] };
}

export const isReady = (pod: k8s.V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function readiness(pod: k8s.V1Pod | undefined): Verdict {
  if (!pod) return { type: READY, status: 'False', reason: 'Pending', message: 'Waiting for the server pod to be created.' };
  if (!pod.spec?.nodeName) {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    return {
      type: READY,
      status: 'False',
      reason: 'Unschedulable',
      message: `No provider runs the server yet${scheduled?.message ? `: ${scheduled.message}` : '.'} A provider with the requested CPU and memory free is needed (and, once it holds the data, that same provider).`,
    };
  }
  if (isReady(pod)) {
    return { type: READY, status: 'True', reason: 'AcceptingConnections', message: `PostgreSQL accepts connections on ${pod.spec.nodeName}.` };
  }
  const state = pod.status?.containerStatuses?.[0];
  const detail = state?.state?.waiting?.reason ?? (state?.lastState?.terminated ? `last exit code ${state.lastState.terminated.exitCode}` : undefined);
  return {
    type: READY,
    status: 'False',
    reason: 'Starting',
    message: `PostgreSQL is starting on ${pod.spec.nodeName}${detail ? ` (${detail})` : ''}.`,
  };
}

function degraded(settings: SettingsVerdict): Verdict {
  if (settings.result === 'invalid') {
    return {
      type: DEGRADED,
      status: 'True',
      reason: 'InvalidParameters',
      message: `PostgreSQL rejects spec.parameters: ${settings.message}. The server keeps running with its current settings; correct spec.parameters.`,
      warning: true,
    };
  }
  return { type: DEGRADED, status: 'False', reason: 'AsExpected', message: 'The server runs as specified.' };
}

export function assess(pg: PostgresInstance, pod: k8s.V1Pod | undefined, settings: SettingsVerdict): Assessment {
  const ready = readiness(pod);
  const { name, namespace } = pg.metadata as { name: string; namespace: string };
  return {
    status: {
      phase: ready.status === 'True' ? 'Running' : pod?.spec?.nodeName ? 'Provisioning' : 'Pending',
      endpoint: { host: serviceHost(name, namespace), port: POSTGRES_PORT },
      connectionSecret: connectionSecretName(name),
      node: pod?.spec?.nodeName,
    },
    conditions: [ready, degraded(settings)],
  };
}
