// Stop (suspend) and start (resume) a Workload or a CronWorkload.
import { useMutation } from '@tanstack/react-query';
import { api, objectPath } from './api.js';
import type { Plural } from './lattice-object.js';

export function SuspendButton({ namespace, plural, name, suspended }: { namespace: string; plural: Plural; name: string; suspended: boolean }) {
  const toggle = useMutation({ mutationFn: () => api('PATCH', `${objectPath(namespace, plural, name)}/suspend`, { suspend: !suspended }) });
  return (
    <>
      <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending} aria-label={`${suspended ? 'Start' : 'Stop'} ${name}`}>
        {suspended ? 'Start' : 'Stop'}
      </button>
      {toggle.error && (
        <p role="alert" className="error">
          {toggle.error.message}
        </p>
      )}
    </>
  );
}
