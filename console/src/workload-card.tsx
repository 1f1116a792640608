// One Workload at a glance: its name, state in words and colour, replicas, nodes and age, with
// stop/start and delete (after a confirmation that names it).
import { useMutation } from '@tanstack/react-query';
import { useId, useRef } from 'react';
import { api, workloadsPath } from './api.js';
import { age, statusWord } from './status.js';
import type { WorkloadObject } from './workload-object.js';

export function WorkloadCard({ namespace, workload, now }: { namespace: string; workload: WorkloadObject; now: number }) {
  const { name } = workload.metadata;
  const titleId = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const path = `${workloadsPath(namespace)}/${encodeURIComponent(name)}`;
  const suspended = workload.spec?.suspend === true;
  const toggle = useMutation({ mutationFn: () => api('PATCH', `${path}/suspend`, { suspend: !suspended }) });
  const remove = useMutation({
    mutationFn: () => api('DELETE', path, { confirm: name }),
    onSettled: () => dialog.current?.close(),
  });
  const word = statusWord(workload);
  const nodes = workload.status?.nodes ?? [];
  const problem = toggle.error ?? remove.error;
  return (
    <article className="card" aria-labelledby={titleId}>
      <h3 id={titleId}>{name}</h3>
      <p className={`status status-${word}`}>
        <span className="dot" aria-hidden="true" />
        Status: {word}
      </p>
      <dl>
        <dt>Ready</dt>
        <dd>
          {workload.status?.readyReplicas ?? 0} of {workload.spec?.replicas ?? 1}
        </dd>
        <dt>Nodes</dt>
        <dd>{nodes.length > 0 ? nodes.join(', ') : 'none yet'}</dd>
        <dt>Age</dt>
        <dd>{age(workload.metadata.creationTimestamp, now)}</dd>
      </dl>
      {problem && (
        <p role="alert" className="error">
          {problem.message}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending} aria-label={`${suspended ? 'Start' : 'Stop'} ${name}`}>
          {suspended ? 'Start' : 'Stop'}
        </button>
        <button type="button" className="danger" onClick={() => dialog.current?.showModal()} aria-label={`Delete ${name}`}>
          Delete
        </button>
      </div>
      <dialog ref={dialog} aria-labelledby={`${titleId}-confirm`}>
        <h4 id={`${titleId}-confirm`}>Delete {name}?</h4>
        <p>
          This removes the Workload <strong>{name}</strong> from namespace <strong>{namespace}</strong>, stops its replicas and
          deletes their volumes. It cannot be undone.
        </p>
        <div className="actions">
          <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Delete {name}
          </button>
          <button type="button" onClick={() => dialog.current?.close()} autoFocus>
            Cancel
          </button>
        </div>
      </dialog>
    </article>
  );
}
