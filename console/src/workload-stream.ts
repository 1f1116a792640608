// The live list of Workloads in a namespace: the BFF's server-sent events (a Kubernetes watch,
// relayed) written into the TanStack Query cache, so every component reads one copy.
import { skipToken, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { workloadsPath } from './api.js';
import { applyChange, type WatchChange, type WorkloadObject } from './workload-object.js';

const workloadsKey = (namespace: string) => ['workloads', namespace];

export function useWorkloadStream(namespace: string) {
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    setProblem(undefined);
    const key = workloadsKey(namespace);
    const source = new EventSource(`/api${workloadsPath(namespace)}/stream`);
    source.addEventListener('snapshot', (event) => {
      queryClient.setQueryData<WorkloadObject[]>(key, applyAll(JSON.parse(event.data) as WorkloadObject[]));
    });
    source.addEventListener('change', (event) => {
      const change = JSON.parse(event.data) as WatchChange;
      queryClient.setQueryData<WorkloadObject[]>(key, (list = []) => applyChange(list, change));
    });
    // A refusal (e.g. no RBAC in this namespace) will not get better by retrying: stop the stream.
    source.addEventListener('problem', (event) => {
      setProblem((JSON.parse(event.data) as { error: string }).error);
      source.close();
    });
    return () => source.close();
  }, [namespace, queryClient]);
  const workloads = useQuery<WorkloadObject[]>({ queryKey: workloadsKey(namespace), queryFn: skipToken });
  return { workloads: workloads.data, problem };
}

const applyAll = (items: WorkloadObject[]) =>
  items.reduce<WorkloadObject[]>((list, object) => applyChange(list, { type: 'ADDED', object }), []);
