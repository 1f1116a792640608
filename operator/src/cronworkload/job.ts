// The batch/v1 Job one run is. Kubernetes' Job controller does the rest: it creates the pod, retries
// it up to backoffLimit, stops it at activeDeadlineSeconds and reports how it ended.
import type * as k8s from '@kubernetes/client-node';
import type { CronWorkload } from '@lattice/crds';
import { controllerReference } from '../kube/owners.js';
import { runLabels, runName, triggerAnnotations, type RunTrigger } from './runs.js';

/** Provider nodes carry this label, and a NoSchedule taint with the same key (see the gateway). */
export const PROVIDER_LABEL = 'lattice.dev/provider';
export const CONTAINER_NAME = 'run';

export function runJob(cw: CronWorkload, trigger: RunTrigger): k8s.V1Job {
  const { template } = cw.spec;
  const labels = runLabels(cw);
  // Requests equal to limits: what the scheduler reserves on a provider is all the run may use.
  const resources = { cpu: template.resources.cpu, memory: template.resources.memory };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: runName(cw.metadata.name!, trigger),
      namespace: cw.metadata.namespace,
      labels,
      annotations: triggerAnnotations(trigger),
      ownerReferences: [controllerReference(cw)],
    },
    spec: {
      backoffLimit: template.backoffLimit,
      activeDeadlineSeconds: template.activeDeadlineSeconds,
      // No ttlSecondsAfterFinished: a finished run, its pod and so its logs stay until the run
      // leaves the history, and the controller deletes it then.
      template: {
        metadata: { labels },
        spec: {
          // A failed run is retried by the Job controller with a new pod (backoffLimit), on any
          // provider, rather than restarted in place on the one that failed it.
          restartPolicy: 'Never',
          containers: [
            {
              name: CONTAINER_NAME,
              image: template.image,
              command: template.command,
              args: template.args,
              env: template.env,
              resources: { requests: resources, limits: resources },
              securityContext: { allowPrivilegeEscalation: false, privileged: false },
            },
          ],
          imagePullSecrets: template.imagePullSecrets,
          nodeSelector: { [PROVIDER_LABEL]: 'true' },
          tolerations: [{ key: PROVIDER_LABEL, operator: 'Exists', effect: 'NoSchedule' }],
          // A consumer's container has no business with the cluster's API, nor with the addresses
          // of every Service in its namespace.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
        },
      },
    },
  };
}
