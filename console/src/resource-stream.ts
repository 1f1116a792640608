// The live list of one kind of Lattice object in a namespace: the BFF's server-sent events (a
// Kubernetes watch, relayed) written into the TanStack Query cache, so every component reads one
// copy (the details page finds its object there too).
import { skipToken, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { collectionPath } from './api.js';
import { applyChange, type ObjectsByPlural, type Plural, type WatchChange } from './lattice-object.js';

const streamKey = (namespace: string, plural: Plural) => ['objects', namespace, plural];

export function useResourceStream<P extends Plural>(namespace: string, plural: P) {
  type T = ObjectsByPlural[P];
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    setProblem(undefined);
    const key = streamKey(namespace, plural);
    const source = new EventSource(`/api${collectionPath(namespace, plural)}/stream`);
    source.addEventListener('snapshot', (event) => {
      const items = JSON.parse(event.data) as T[];
      queryClient.setQueryData<T[]>(key, items.reduce<T[]>((list, object) => applyChange(list, { type: 'ADDED', object }), []));
    });
    source.addEventListener('change', (event) => {
      const change = JSON.parse(event.data) as WatchChange<T>;
      queryClient.setQueryData<T[]>(key, (list = []) => applyChange(list, change));
    });
    // A refusal (e.g. no RBAC in this namespace) will not get better by retrying: stop the stream.
    source.addEventListener('problem', (event) => {
      setProblem((JSON.parse(event.data) as { error: string }).error);
      source.close();
    });
    return () => source.close();
  }, [namespace, plural, queryClient]);
  const objects = useQuery<T[]>({ queryKey: streamKey(namespace, plural), queryFn: skipToken });
  return { objects: objects.data, problem };
}
