// Delete, after a confirmation dialog that names the object and its namespace.
import { useMutation } from '@tanstack/react-query';
import { useId, useRef } from 'react';
import { api, objectPath } from './api.js';
import { KIND_LABEL } from './kind-labels.js';
import type { Plural } from './lattice-object.js';

export function DeleteButton({ namespace, plural, name, onDeleted }: { namespace: string; plural: Plural; name: string; onDeleted?: () => void }) {
  const titleId = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const remove = useMutation({
    mutationFn: () => api('DELETE', objectPath(namespace, plural, name), { confirm: name }),
    onSuccess: () => onDeleted?.(),
    onSettled: () => dialog.current?.close(),
  });
  const what = KIND_LABEL[plural].one;
  return (
    <>
      <button type="button" className="danger" onClick={() => dialog.current?.showModal()} aria-label={`Delete ${name}`}>
        Delete
      </button>
      {remove.error && (
        <p role="alert" className="error">
          {remove.error.message}
        </p>
      )}
      <dialog ref={dialog} aria-labelledby={titleId}>
        <h4 id={titleId}>Delete {name}?</h4>
        <p>
          This removes the {what} <strong>{name}</strong> from namespace <strong>{namespace}</strong>
          {plural === 'postgresinstances' ? ', with its data unless its reclaim policy is Retain' : plural === 'workloads' ? ', stops its replicas and deletes their volumes' : ' and its run history'}. It cannot be
          undone.
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
    </>
  );
}
