// Scale a Workload: the number of replicas, 0 to 100 as the CRD allows.
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, objectPath } from './api.js';

export function ScaleControl({ namespace, name, replicas }: { namespace: string; name: string; replicas: number }) {
  const [value, setValue] = useState(String(replicas));
  const [error, setError] = useState<string>();
  const scale = useMutation({ mutationFn: (n: number) => api('PATCH', `${objectPath(namespace, 'workloads', name)}/scale`, { replicas: n }) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= 0 && n <= 100)) {
      setError('must be a whole number from 0 to 100');
      return;
    }
    setError(undefined);
    scale.mutate(n);
  };
  return (
    <form className="scale" onSubmit={submit} noValidate>
      <label htmlFor="scale-replicas">Replicas</label>
      <input
        id="scale-replicas"
        inputMode="numeric"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'scale-error' : undefined}
      />
      <button type="submit" disabled={scale.isPending}>
        Scale
      </button>
      {error && (
        <p id="scale-error" className="field-error">
          {error}
        </p>
      )}
      {scale.error && (
        <p role="alert" className="error">
          {scale.error.message}
        </p>
      )}
    </form>
  );
}
